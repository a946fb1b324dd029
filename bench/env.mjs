// Where the numbers came from: machine, runtime and the exact package versions.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { execFileSync } from 'node:child_process';

const root = new URL('../', import.meta.url);

export const PACKAGES = [
  'tinybench',
  'onnxruntime-web',
  'onnxruntime-node',
  'onnxruntime-common',
  '@tensorflow/tfjs-core',
  '@tensorflow/tfjs-backend-wasm',
];

/** Read from the package's manifest file: several of these packages do not export `./package.json`. */
export function packageVersion(name) {
  try {
    return JSON.parse(readFileSync(new URL(`node_modules/${name}/package.json`, root), 'utf8')).version;
  } catch {
    return 'missing';
  }
}

function gitRevision() {
  try {
    const cwd = new URL('.', root);
    const rev = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'assembly'], { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
    return dirty ? `${rev} (src/assembly modified)` : rev;
  } catch {
    return 'unknown';
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ of /proc on Linux

/**
 * CPU seconds used by the whole machine (steal apart) and by this process with its finished children,
 * and the hypervisor's steal, from /proc (Linux only; undefined elsewhere).
 */
export function cpuSnapshot() {
  try {
    const [, user, nice, system, , , irq, softirq, steal] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).map(Number);
    // Fields after the parenthesised command name: utime, stime, cutime, cstime are the 12th to 15th.
    const own = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ').slice(11, 15).map(Number);
    return {
      at: performance.now() / 1000,
      machine: (user + nice + system + irq + softirq) / TICKS_PER_SECOND,
      steal: steal / TICKS_PER_SECOND,
      own: own.reduce((a, b) => a + b, 0) / TICKS_PER_SECOND,
    };
  } catch {
    return undefined;
  }
}

/**
 * Cores kept busy by other processes between two snapshots (the benchmark's own work subtracted), and
 * the cores' time the hypervisor gave to other machines (steal), both in cores.
 */
export function otherCores(before, after) {
  if (!before || !after) return undefined;
  const seconds = after.at - before.at;
  return {
    processes: Math.max(0, (after.machine - before.machine - (after.own - before.own)) / seconds),
    steal: Math.max(0, (after.steal - before.steal) / seconds),
  };
}

/**
 * This thread's time on a CPU and time spent runnable but waiting for one (the scheduler's run-queue
 * delay), in nanoseconds, from /proc/thread-self/schedstat (Linux with CONFIG_SCHED_INFO; undefined
 * elsewhere). The wait is what preemption by other processes costs a timing loop, measured directly.
 */
export function schedSnapshot() {
  try {
    const [run, wait] = readFileSync('/proc/thread-self/schedstat', 'utf8').trim().split(/\s+/).map(Number);
    return Number.isFinite(run) && Number.isFinite(wait) ? { run, wait } : undefined;
  } catch {
    return undefined;
  }
}

export function environment() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    node: process.version,
    normkit: `${JSON.parse(readFileSync(new URL('package.json', root), 'utf8')).version} @ ${gitRevision()}`,
    packages: Object.fromEntries(PACKAGES.map((p) => [p, packageVersion(p)])),
  };
}
