// The code a pool worker runs (pool.ts). It is sent to the worker as source text, so that no file or URL
// has to ship or be configured: the build compiles workerBody into a string (scripts/embed-worker.mjs), so
// it must use nothing from outside its own body but globals, and take its constants from the first message.

/** The control block's layout in i32 words, shared by the pool and its workers. */
export interface ControlLayout {
  /** Byte address of the control block in linear memory. */
  control: number;
  /** Words per worker line (a cache line each, so that workers do not share one). */
  line: number;
  /** Word of the count of workers still running the current job. */
  pending: number;
  /** Offsets inside a worker's line. */
  seq: number;
  job: number;
  params: number;
  status: number;
  /** The id of the worker the line's job is for. */
  owner: number;
  /** JOB values that are not kernels, and STATUS values. */
  quit: number;
  exit: number;
  ok: number;
  trapped: number;
  dead: number;
}

/** The worker's first message. */
export interface WorkerInit {
  /** The compiled WebAssembly.Module and the shared WebAssembly.Memory (structural types, as in wasm.ts). */
  module: object;
  memory: { readonly buffer: ArrayBuffer };
  /** This worker's line (1 ..): line 0 is the pending counter's. */
  slot: number;
  /** This worker's id, unique in its realm's pool history. */
  id: number;
  kernels: readonly string[];
  layout: ControlLayout;
}

/** What a worker can do with its port: `node` says which API it has (worker_threads or a Web Worker). */
interface Port {
  postMessage(message: unknown): void;
  once?(event: 'message', f: (data: WorkerInit) => void): void;
  onmessage?: ((event: { data: WorkerInit }) => void) | null;
  close?(): void;
}

/**
 * A worker's life: instantiate the module over the shared memory, say so, then wait on its line for jobs
 * (a kernel's index and a parameter block) until told to quit, which it acknowledges. It blocks in Atomics.wait between jobs,
 * which a worker may do; the pool never needs to send it another message.
 */
export function workerBody(port: Port, node: boolean, exit: () => void): void {
  const start = (init: WorkerInit): void => {
    const { module, memory, slot, id, kernels, layout: l } = init;
    WebAssembly.instantiate(module as WebAssembly.Module, { env: { memory: memory as WebAssembly.Memory } }).then(
      (instance) => {
        const exports = instance.exports as Record<string, (params: number) => void>;
        const run = kernels.map((name) => exports[name]);
        // The control block sits at a fixed low address: this view of today's buffer covers it for good.
        const ctl = new Int32Array(memory.buffer, l.control);
        const line = slot * l.line;
        const finish = (status: number): void => {
          Atomics.store(ctl, line + l.status, status);
          if (Atomics.sub(ctl, l.pending, 1) === 1) Atomics.notify(ctl, l.pending);
        };
        // The job count before saying so: the pool may post the first job as soon as it hears.
        let seen = Atomics.load(ctl, line + l.seq);
        port.postMessage('ready');
        for (;;) {
          Atomics.wait(ctl, line + l.seq, seen);
          const seq = Atomics.load(ctl, line + l.seq);
          if (seq === seen) continue;
          seen = seq;
          // A line taken over by a newer pool's worker: this one was terminated, but engines may leave a
          // thread that waits in Atomics.wait running until it wakes. It leaves without a trace.
          if (ctl[line + l.owner] !== id) break;
          const job = ctl[line + l.job];
          if (job === l.quit) {
            finish(l.ok);
            break;
          }
          if (job === l.exit) {
            finish(l.dead);
            exit();
            return;
          }
          let status = l.ok;
          try {
            run[job](ctl[line + l.params]);
          } catch {
            status = l.trapped;
          }
          finish(status);
        }
        port.close?.();
      },
      (e: unknown) => port.postMessage(`failed: ${String(e)}`),
    );
  };
  if (node) port.once?.('message', start);
  else port.onmessage = (event) => start(event.data);
}
