// One process per peer family and pass: builds the inputs and the float64 reference, checks every
// implementation's output, and times only the ones that are right. Talks to run.mjs over IPC.
import { CASES, inLayout, makeInputs, maxError, referenceOutputs, toleranceOf } from './cases.mjs';
import { schedSnapshot } from './env.mjs';
import { measure } from './measure.mjs';

const FAMILIES = {
  normkit: () => import('./peers/normkit.mjs').then((m) => m.create()),
  'normkit-mt': () => import('./peers/normkit.mjs').then((m) => m.createThreaded()),
  js: () => import('./peers/js.mjs').then((m) => m.create()),
  roofline: () => import('./peers/roofline.mjs').then((m) => m.create()),
  'ort-node': () => import('./peers/ort.mjs').then((m) => m.createNode()),
  'ort-web': () => import('./peers/ort.mjs').then((m) => m.createWebSingle()),
  'ort-web-mt': () => import('./peers/ort.mjs').then((m) => m.createWebThreaded()),
  tfjs: () => import('./peers/tfjs.mjs').then((m) => m.create()),
};

const send = (msg) => new Promise((resolve) => process.send(msg, resolve));
const message = (e) => String(e?.message ?? e).split('\n')[0].slice(0, 300);

/**
 * Worst error over y and, where the reference has them and the peer returns them, the updated running
 * statistics and the skip sum (SkipGroupNorm's second output).
 */
function check(out, ref) {
  let err = maxError(out?.y, ref.y);
  for (const key of ['runningMean', 'runningVar', 'sum']) {
    if (ref[key] && out?.[key] !== undefined) err = Math.max(err, maxError(out[key], ref[key]));
  }
  return err;
}

async function runCase(impl, c, inputs, ref, budget) {
  const layout = impl.layout?.(c) ?? c.layout;
  const own = layout === c.layout ? { inputs, ref } : inLayout(inputs, ref, layout);
  const row = { case: c.id, impl: impl.id, layout };
  let handle;
  try {
    handle = await impl.prepare(c, own.inputs);
    // What the peer actually ran when it is not the obvious op (onnxruntime without a contrib kernel).
    if (handle.note) row.note = handle.note;
    await handle.run();
    const out = handle.read();
    if (out) {
      row.err = check(out, own.ref);
      if (!(row.err <= toleranceOf(c))) return { ...row, status: 'wrong' };
    }
    // How long this (the timing) thread waited for a CPU while it was being timed: preemption, measured.
    const before = schedSnapshot();
    Object.assign(row, await measure(handle.run, handle.isAsync, budget));
    const after = schedSnapshot();
    if (before && after) row.sched = { runNs: after.run - before.run, waitNs: after.wait - before.wait };
    return { ...row, status: 'ok' };
  } catch (e) {
    // A runtime without a kernel for the case's dtype (onnxruntime in bfloat16) is reported, not failed.
    return { ...row, status: e?.unsupported ? 'unsupported' : 'error', message: message(e) };
  } finally {
    await handle?.dispose?.();
  }
}

async function main({ families, caseIds, budget }) {
  const impls = [];
  for (const family of families) {
    const t0 = performance.now();
    try {
      for (const impl of await FAMILIES[family]()) {
        impls.push(impl);
        await send({ type: 'impl', id: impl.id, label: impl.label, info: impl.info, initMs: performance.now() - t0 });
      }
    } catch (e) {
      await send({ type: 'family-error', family, message: message(e) });
    }
  }
  const reference = await import('../dist/reference.js');
  for (const c of CASES.filter((k) => caseIds.includes(k.id))) {
    const inputs = makeInputs(c);
    const ref = referenceOutputs(reference, c, inputs);
    for (const impl of impls.filter((i) => i.supports?.(c) ?? true)) {
      await send({ type: 'progress', case: c.id, impl: impl.id });
      await send({ type: 'result', ...(await runCase(impl, c, inputs, ref, budget)) });
    }
  }
}

process.once('message', async (job) => {
  try {
    await main(job);
    await send({ type: 'done' });
  } catch (e) {
    await send({ type: 'fatal', message: e?.stack ?? String(e) });
  }
  // onnxruntime-web and tfjs keep handles open; the job is over.
  process.exit(0);
});
