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
