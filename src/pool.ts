// The thread pool: `ready({ threads })`, `close()`, and running one kernel call as several parameter
// blocks at once, the calling thread taking the first.
//
// Workers share the calling thread's wasm memory and wait on a control block in it (worker-body.ts). A
// call writes each worker's job into its line, wakes it, runs its own share, then waits for the pending
// count to reach 0: with Atomics.wait where the thread may block (Node, any worker), with a bounded spin on
// a browser's main thread, where Atomics.wait throws. The ops stay synchronous.

import { NormkitError, describe } from './errors.js';
import { align, allocateForGood, clearBytes } from './memory.js';
import { PARAM_BLOCK_BYTES } from './generated/abi.js';
import { KERNEL_NAMES, getKernels, loadKernels, loadShared, whenReady, whenShared, type KernelName } from './wasm.js';
import type { ControlLayout, WorkerInit } from './worker-body.js';
import { workerBodySource } from './generated/worker.js';

/** The worker's whole source, for `new Worker(source, { eval: true })` in Node or a Blob URL in a browser. */
function workerSource(node: boolean): string {
  return node
    ? // getBuiltinModule rather than require: an eval worker is an ES module when Node runs with --input-type=module.
      `(${workerBodySource})(process.getBuiltinModule('node:worker_threads').parentPort, true, () => process.exit(0));`
    : `(${workerBodySource})(self, false, () => self.close());`;
}

/**
 * Elements of x below which a share of a call does not pay for waking a thread (tens of microseconds):
 * at about 1 ns per element, 64 Ki elements per thread keep the wake-up under 10% of the share.
 */
const MIN_ELEMENTS_PER_THREAD = 65536;
/** How long a call waits for its workers at least, before it takes one for lost (ms)... */
const WAIT_BASE_MS = 2000;
/** ...plus this per element of the call: 100 times what a kernel takes. */
const WAIT_PER_ELEMENT_MS = 1e-4;
/** How long a new worker may take to start (ms). */
const START_MS = 30_000;
/** The most threads a pool runs ('auto' takes at most this many). */
const MAX_THREADS = 64;

const LINE_WORDS = 16;
const LAYOUT: Omit<ControlLayout, 'control'> = {
  line: LINE_WORDS, pending: 0, seq: 0, job: 1, params: 2, status: 3, owner: 4,
  quit: -1, exit: -2, ok: 0, trapped: 1, dead: 2,
};

interface NodeProcess {
  versions?: { node?: string };
  getBuiltinModule?(name: string): unknown;
}
/** The parts of a worker that the pool uses, in Node and in browsers. */
interface AnyWorker {
  postMessage(message: unknown): void;
  terminate(): unknown;
  unref?(): void;
  on?(event: string, f: (arg: unknown) => void): void;
  addEventListener?(event: string, f: (arg: unknown) => void): void;
}
type WorkerClass = new (source: string | URL, options?: object) => AnyWorker;

const nodeProcess = (globalThis as { process?: NodeProcess }).process;
const inNode = typeof nodeProcess?.versions?.node === 'string' && typeof nodeProcess.getBuiltinModule === 'function';

/** Whether this thread may block in Atomics.wait: not a browser's main thread. */
const canBlock = inNode || typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope !== 'undefined';

function workerClass(): WorkerClass | undefined {
  if (inNode) return (nodeProcess!.getBuiltinModule!('node:worker_threads') as { Worker: WorkerClass }).Worker;
  return (globalThis as { Worker?: WorkerClass }).Worker;
}

/** The number of cores this thread can use ('auto'). */
function availableCores(): number {
  if (inNode) return (nodeProcess!.getBuiltinModule!('node:os') as { availableParallelism(): number }).availableParallelism();
  return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
}

interface Pool {
  workers: AnyWorker[];
  /** The id of the worker on each line (index 0 unused). */
  ids: number[];
  /** Set when a worker was lost: the pool no longer takes jobs. */
  lost: boolean;
}

let pool: Pool | undefined;
/** The thread count ready() was last asked for (ready() without one keeps it). */
let requested = 1;
/**
 * Every thread's parameter block ([0]: the calling thread's) and the control block, reserved once for the
 * most threads a pool can have, so that resizing allocates nothing and moves nothing.
 */
const blocks: number[] = [];
let control = 0;
/** An Int32Array over the control block. */
let ctl: Int32Array;
/** ready() calls run one after another. */
let queue: Promise<unknown> = Promise.resolve();
/** The last worker id given out: ids tell a line's current worker from a terminated one. */
let lastId = 0;
/** Test hook: what the next threaded call makes its first worker do. */
let fault: 'trap' | 'exit' | 'hang' | undefined;
/** The smallest share worth a thread; a test hook lowers it to split small calls. */
let minShare = MIN_ELEMENTS_PER_THREAD;

whenReady((k) => {
  const step = align(PARAM_BLOCK_BYTES);
  const base = allocateForGood(MAX_THREADS * (step + 4 * LINE_WORDS), 'the parameter blocks');
  for (let t = 0; t < MAX_THREADS; t++) blocks[t] = base + t * step;
  control = base + MAX_THREADS * step;
});
whenShared((k) => {
  ctl = new Int32Array(k.memory.buffer, control, MAX_THREADS * LINE_WORDS);
});

function readThreads(options: unknown): number {
  if (options === undefined) return requested;
  if (options === null || typeof options !== 'object') {
    throw new NormkitError('INVALID_OPTION', `ready: expected an options object or undefined, got ${describe(options)}`);
  }
  for (const key in options) {
    if (key !== 'threads') throw new NormkitError('UNKNOWN_OPTION', `ready: unknown option ${describe(key)}; ready takes threads`);
  }
  const { threads } = options as { threads?: unknown };
  if (threads === undefined) return requested;
  if (threads === 'auto') return Math.min(MAX_THREADS, Math.max(1, availableCores()));
  if (typeof threads !== 'number' || !Number.isInteger(threads) || threads < 1 || threads > MAX_THREADS) {
    throw new NormkitError(
      'INVALID_OPTION',
      `threads: expected an integer in [1, ${MAX_THREADS}] or 'auto', got ${describe(threads)}`,
    );
  }
  return threads;
}

function lostError(what: string): NormkitError {
  return new NormkitError(
    'WORKER_FAULT',
    `${what}; this call's outputs are undefined, and calls run on one thread until ready() rebuilds the pool`,
  );
}

// Posts job `job` (a kernel's index, or quit or exit) with parameter block `params` to worker lines
// 1 .. count - 1 and wakes them; each counts `pending` down when done.
function post(
  p: Pool, count: number, job: (t: number) => number, params: (t: number) => number, owner = (t: number) => p.ids[t],
): void {
  Atomics.store(ctl, LAYOUT.pending, count - 1);
  for (let t = 1; t < count; t++) {
    const line = t * LINE_WORDS;
    ctl[line + LAYOUT.owner] = owner(t);
    ctl[line + LAYOUT.job] = job(t);
    ctl[line + LAYOUT.params] = params(t);
    ctl[line + LAYOUT.status] = LAYOUT.ok;
    Atomics.add(ctl, line + LAYOUT.seq, 1);
    Atomics.notify(ctl, line + LAYOUT.seq);
  }
}

// Waits until every posted worker is done, or the deadline; returns whether all are.
function settle(deadline: number): boolean {
  for (let spins = 0; ; spins++) {
    const pending = Atomics.load(ctl, LAYOUT.pending);
    if (pending === 0) return true;
    if ((canBlock || (spins & 1023) === 0) && performance.now() > deadline) return false;
    // A short spin first: the workers started with this thread and usually finish with it.
    if (canBlock && spins > 64) Atomics.wait(ctl, LAYOUT.pending, pending, 10);
  }
}

/**
 * Ends the pool: a healthy one's workers quit and are waited for, so that the next pool can take over their
 * control lines; a lost one's are terminated.
 */
function endPool(p: Pool): void {
  if (pool === p) pool = undefined;
  const count = p.workers.length + 1;
  if (!p.lost) {
    post(p, count, () => LAYOUT.quit, () => 0);
    p.lost = !settle(performance.now() + WAIT_BASE_MS);
  }
  if (p.lost) for (const w of p.workers) void w.terminate();
}

function startWorker(Worker: WorkerClass, init: WorkerInit, onLost: () => void): Promise<AnyWorker> {
  return new Promise((resolve, reject) => {
    let worker: AnyWorker;
    let started = false;
    const fail = (why: string): void => {
      if (started) onLost();
      else {
        void worker?.terminate();
        reject(new NormkitError('WORKER_FAULT', `ready: a worker thread failed to start (${why})`));
      }
    };
    const timer = setTimeout(() => fail(`no answer within ${START_MS / 1000} s`), START_MS);
    const onMessage = (m: unknown): void => {
      clearTimeout(timer);
      if (m === 'ready') {
        started = true;
        resolve(worker);
      } else fail(String(m));
    };
    try {
      if (inNode) {
        worker = new Worker(workerSource(true), { eval: true });
        worker.on!('message', onMessage);
        worker.on!('error', (e) => fail(String(e)));
        worker.on!('exit', (code) => fail(`exited with code ${String(code)}`));
        worker.unref!();
      } else {
        // A Blob URL: a Content-Security-Policy must allow it (worker-src blob:, docs/browser.md).
        const url = URL.createObjectURL(new Blob([workerSource(false)], { type: 'text/javascript' }));
        try {
          worker = new Worker(url);
        } finally {
          URL.revokeObjectURL(url);
        }
        worker.addEventListener!('message', (e) => onMessage((e as { data: unknown }).data));
        worker.addEventListener!('error', (e) => fail((e as { message?: string }).message ?? 'a worker error event'));
      }
      worker.postMessage(init);
    } catch (e) {
      clearTimeout(timer);
      fail(e instanceof Error ? e.message : String(e));
    }
  });
}

async function resize(threads: number): Promise<number> {
  const Worker = workerClass();
  const { module, memory, shared } = threads > 1 && Worker !== undefined ? await loadShared() : await loadKernels();
  const usable = shared && Worker !== undefined ? threads : 1;
  if (pool !== undefined && !pool.lost && pool.workers.length + 1 === usable) return usable;
  if (pool !== undefined) endPool(pool);
  if (usable === 1) return 1;
  const layout: ControlLayout = { control, ...LAYOUT };
  const next: Pool = { workers: [], ids: [0], lost: false };
  const onLost = (): void => {
    next.lost = true;
    if (pool === next) endPool(next);
  };
  const starting = [];
  for (let slot = 1; slot < usable; slot++) {
    next.ids[slot] = ++lastId;
    const init: WorkerInit = { module, memory, slot, id: lastId, kernels: KERNEL_NAMES, layout };
    starting.push(startWorker(Worker!, init, onLost));
  }
  const settled = await Promise.allSettled(starting);
  next.workers = settled.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = settled.find((s) => s.status === 'rejected');
  if (failed !== undefined || next.lost) {
    next.lost = true;
    endPool(next);
    throw failed !== undefined ? (failed as PromiseRejectedResult).reason : lostError('ready: a worker thread was lost');
  }
  pool = next;
  return usable;
}

/**
 * Compiles and instantiates the embedded wasm (once), and sets the number of threads the ops use:
 * `threads` is a positive integer or 'auto' (the available cores); without it, the count last asked for
 * (1 at first). Resolves to the count now in use: 1 where threads are unavailable (no shared memory, as in
 * a browser page that is not cross-origin isolated). Calling it again resizes the pool, and rebuilds it
 * after a WORKER_FAULT.
 */
export function ready(options?: { threads?: number | 'auto' }): Promise<number>;
// Declares no parameter: test runners hand a bare `beforeAll(ready)` their hook context (an object without
// keys, which reads as no options) and refuse a hook that declares one.
export function ready(): Promise<number> {
  let threads: number;
  try {
    // eslint-disable-next-line prefer-rest-params
    threads = readThreads(arguments[0]);
  } catch (e) {
    return Promise.reject(e);
  }
  requested = threads;
  const next = queue.then(() => resize(threads));
  queue = next.catch(() => undefined);
  return next;
}

/** Ends the worker threads; ops run on the calling thread, as after `ready({ threads: 1 })`. */
export function close(): Promise<void> {
  requested = 1;
  const next = queue.then(() => {
    if (pool !== undefined) endPool(pool);
  });
  queue = next;
  return next;
}

/**
 * How many threads a call of `elements` elements of x, divisible into `parts` independent pieces, should
 * use: 1 unless each thread gets at least MIN_ELEMENTS_PER_THREAD.
 */
export function threadsFor(elements: number, parts: number): number {
  if (pool === undefined || pool.lost) return 1;
  return Math.max(1, Math.min(pool.workers.length + 1, parts, Math.floor(elements / minShare)));
}

/** The parameter block of thread `t` (0: the calling thread). */
export function paramBlock(t: number): number {
  return blocks[t];
}

// A kernel that traps does not clear its parameter block (kernels leave theirs all 0 when they return).
function kernelFault(op: string, e: unknown, threads: number): NormkitError {
  for (let t = 0; t < threads; t++) clearBytes(blocks[t], PARAM_BLOCK_BYTES);
  return new NormkitError(
    'KERNEL_FAULT',
    `${op}: the kernel trapped (${e instanceof Error ? e.message : String(e)}); no output was copied out (please report)`,
  );
}

/**
 * Runs `kernel` over the parameter blocks of threads 0 .. threads - 1: the workers' first, then the
 * calling thread's, then waits for all. `elements` bounds how long the wait may take.
 */
export function runKernel(op: string, kernel: KernelName, threads: number, elements: number): void {
  const run = getKernels()[kernel];
  if (threads === 1) {
    try {
      run(blocks[0]);
    } catch (e) {
      throw kernelFault(op, e, 1);
    }
    return;
  }
  const p = pool!;
  const job = KERNEL_NAMES.indexOf(kernel);
  // The fault hook: a parameter block far outside memory makes the kernel trap; a line owned by no worker
  // is one whose worker never answers (it leaves, as one of an older pool would), as if it hung.
  const injected = fault;
  fault = undefined;
  post(
    p, threads, (t) => (t === 1 && injected === 'exit' ? LAYOUT.exit : job), (t) => (t === 1 && injected === 'trap' ? -16 : blocks[t]),
    (t) => (t === 1 && injected === 'hang' ? -1 : p.ids[t]),
  );
  let trap: unknown;
  try {
    run(blocks[0]);
  } catch (e) {
    trap = e ?? 'trap';
  }
  let lost: string | undefined;
  if (!settle(performance.now() + WAIT_BASE_MS + elements * WAIT_PER_ELEMENT_MS)) lost = 'a worker thread did not finish its share in time';
  for (let t = 1; t < threads && lost === undefined; t++) {
    const status = ctl[t * LINE_WORDS + LAYOUT.status];
    if (status !== LAYOUT.ok) lost = status === LAYOUT.dead ? 'a worker thread exited' : 'the kernel trapped in a worker thread';
  }
  if (lost !== undefined) {
    p.lost = true;
    endPool(p);
    for (let t = 0; t < threads; t++) clearBytes(blocks[t], PARAM_BLOCK_BYTES);
    throw lostError(`${op}: ${lost}`);
  }
  if (trap !== undefined) throw kernelFault(op, trap, threads);
}

/** Test hook (not exported by the package): the next threaded call's first worker traps, exits or never answers. */
export function injectFault(kind: 'trap' | 'exit' | 'hang'): void {
  fault = kind;
}

/** Test hook (not exported by the package): the smallest share worth a thread, in elements of x (default restored without one). */
export function setMinShare(elements = MIN_ELEMENTS_PER_THREAD): void {
  minShare = elements;
}
