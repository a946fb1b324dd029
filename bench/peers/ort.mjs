// onnxruntime, wasm backend in Node (onnxruntime-web) and native CPU (onnxruntime-node), one thread each,
// running a model built in code for each case. Per call: `new ort.Tensor` for every run-time input, then
// `session.run`. Weights are initializers, as in an exported model.
import { availableParallelism } from 'node:os';
import { ELEM_TYPES, encodeModel } from './onnx-model.mjs';
import { narrow, widen } from '../half.mjs';
import { packageVersion } from '../env.mjs';
import { SETTINGS, channelCount } from '../cases.mjs';

const f = (v) => ({ f: v });
const i = (v) => ({ i: v });

/**
 * The graph for a case, in NCHW for the channel ops (the only layout of ONNX's InstanceNormalization,
 * GroupNormalization and BatchNormalization).
 */
function graphFor(c, inp) {
  const { eps, momentum } = SETTINGS;
  const xDims = inp.shape;
  const C = channelCount(inp);
  const params = (names) => names.map((name) => ({ name, dims: [inp[name].length], data: inp[name] }));
  const base = { irVersion: 8, opsets: [{ version: 17 }], inputs: [{ name: 'x', dims: xDims }], outputs: [{ name: 'y', dims: xDims }] };
  switch (c.kind) {
    case 'layernorm':
      return {
        ...base,
        nodes: [{ op: 'LayerNormalization', inputs: ['x', 'weight', 'bias'], outputs: ['y'], attrs: { axis: i(-1), epsilon: f(eps) } }],
        initializers: params(['weight', 'bias']),
      };
    case 'skiplayernorm':
      return {
        ...base,
        opsets: [{ version: 17 }, { domain: 'com.microsoft', version: 1 }],
        inputs: [...base.inputs, { name: 'residual', dims: xDims }],
        nodes: [
          {
            op: 'SkipLayerNormalization',
            domain: 'com.microsoft',
            inputs: ['x', 'residual', 'weight', 'bias'],
            outputs: ['y'],
            attrs: { epsilon: f(eps) },
          },
        ],
        initializers: params(['weight', 'bias']),
      };
    case 'rmsnorm':
      // RMSNormalization arrived in opset 23, which needs IR version 11.
      return {
        ...base,
        irVersion: 11,
        opsets: [{ version: 23 }],
        nodes: [{ op: 'RMSNormalization', inputs: ['x', 'weight'], outputs: ['y'], attrs: { axis: i(-1), epsilon: f(eps) } }],
        initializers: params(['weight']),
      };
    case 'batchnorm':
    case 'batchnorm-train': {
      const training = c.kind === 'batchnorm-train';
      return {
        ...base,
        opsets: [{ version: 15 }],
        // Training also emits the running statistics (ONNX: momentum weighs the old value, biased variance).
        outputs: training ? [...base.outputs, { name: 'rm', dims: [C] }, { name: 'rv', dims: [C] }] : base.outputs,
        nodes: [
          {
            op: 'BatchNormalization',
            inputs: ['x', 'weight', 'bias', 'runningMean', 'runningVar'],
            outputs: training ? ['y', 'rm', 'rv'] : ['y'],
            attrs: { epsilon: f(eps), momentum: f(1 - momentum), training_mode: i(training ? 1 : 0) },
          },
        ],
        initializers: params(['weight', 'bias', 'runningMean', 'runningVar']),
      };
    }
    case 'instancenorm':
      return {
        ...base,
        nodes: [{ op: 'InstanceNormalization', inputs: ['x', 'weight', 'bias'], outputs: ['y'], attrs: { epsilon: f(eps) } }],
        initializers: params(['weight', 'bias']),
      };
    case 'groupnorm':
      // Opset 21 takes per-channel scale and bias (opset 18's were per group).
      return {
        ...base,
        opsets: [{ version: 21 }],
        nodes: [
          {
            op: 'GroupNormalization',
            inputs: ['x', 'weight', 'bias'],
            outputs: ['y'],
            attrs: { epsilon: f(eps), num_groups: i(c.groups) },
          },
        ],
        initializers: params(['weight', 'bias']),
      };
    case 'adain':
      return adaINGraph(inp, C);
    default:
      throw new Error(`no onnxruntime program for ${c.kind}`);
  }
}

const MS_OPSETS = [{ version: 21 }, { domain: 'com.microsoft', version: 1 }];

/**
 * Issue 10's kinds: the graphs to try, best first, each with what it is. The contrib ops (com.microsoft)
 * come first; an execution provider without their kernel refuses the session ("Could not find an
 * implementation"), and the next graph is what a model exported for that provider runs instead: the same
 * computation from standard ONNX ops. The channel ops run in NCHW (`channels_last` 0), as the older cases do.
 */
function candidatesFor(c, inp) {
  // Only issue 10's cases (those with a base case) have candidates; rmsNorm and adaIN have no bias to bind.
  if (!c.base) return undefined;
  const { eps } = SETTINGS;
  const xDims = inp.shape;
  const C = channelCount(inp);
  const vec = (name, dims = [inp[name].length]) => ({ name, dims, data: inp[name] });
  const model = (opsets, inputs, outputs, nodes, initializers) => ({ irVersion: 8, opsets, inputs, outputs, nodes, initializers });
  const x = [{ name: 'x', dims: xDims }];
  const xr = [...x, { name: 'residual', dims: xDims }];
  const y = [{ name: 'y', dims: xDims }];
  const ys = [...y, { name: 's', dims: xDims }];
  const contrib = (op, inputs, outputs, attrs) => ({ op, domain: 'com.microsoft', inputs, outputs, attrs });
  const gnAttrs = { activation: i(1), channels_last: i(0), epsilon: f(eps), groups: i(c.groups) };
  const groupNorm21 = (from, to) => ({
    op: 'GroupNormalization',
    inputs: [from, 'weight', 'bias'],
    outputs: [to],
    attrs: { epsilon: f(eps), num_groups: i(c.groups) },
  });
  const silu = (from, to) => [
    { op: 'Sigmoid', inputs: [from], outputs: [`${from}_sig`] },
    { op: 'Mul', inputs: [from, `${from}_sig`], outputs: [to] },
  ];
  const layerNorm17 = (inputs, to) => ({ op: 'LayerNormalization', inputs, outputs: [to], attrs: { axis: i(-1), epsilon: f(eps) } });
  const affine = [vec('weight'), vec('bias')];
  switch (c.kind) {
    case 'groupnorm-silu':
      return [
        {
          what: 'com.microsoft.GroupNorm (activation 1 = SiLU)',
          graph: model(MS_OPSETS, x, y, [contrib('GroupNorm', ['x', 'weight', 'bias'], ['y'], gnAttrs)], affine),
        },
        {
          what: 'GroupNormalization-21 + Sigmoid + Mul',
          graph: model([{ version: 21 }], x, y, [groupNorm21('x', 'g'), ...silu('g', 'y')], affine),
        },
      ];
    case 'skipgroupnorm':
      return [
        {
          what: 'com.microsoft.SkipGroupNorm (skip, bias, SiLU, sum output)',
          graph: model(
            MS_OPSETS,
            xr,
            ys,
            [contrib('SkipGroupNorm', ['x', 'weight', 'bias', 'residual', 'inputBias'], ['y', 's'], gnAttrs)],
            [...affine, vec('inputBias')],
          ),
        },
        {
          what: 'Add + Add + GroupNormalization-21 + Sigmoid + Mul (sum output)',
          graph: model(
            [{ version: 21 }],
            xr,
            ys,
            [
              { op: 'Add', inputs: ['x', 'residual'], outputs: ['xr'] },
              { op: 'Add', inputs: ['xr', 'inputBias'], outputs: ['s'] },
              groupNorm21('s', 'g'),
              ...silu('g', 'y'),
            ],
            // The per-channel bias as [C, 1, 1] to broadcast over NCHW.
            [...affine, vec('inputBias', [C, ...xDims.slice(2).map(() => 1)])],
          ),
        },
      ];
    case 'layernorm-adaln': {
      // No fused AdaLN op: LayerNormalization-17 with Scale and B broadcast from [B, 1, H] (the CPU and wasm
      // kernels take them), else LayerNormalization with a unit scale, then Mul and Add.
      const H = xDims.at(-1);
      const modulation = [vec('weight', inp.weightShape), vec('bias', inp.biasShape)];
      return [
        {
          what: `LayerNormalization-17, Scale and B [${inp.weightShape}] broadcast (no fused AdaLN op)`,
          graph: model([{ version: 17 }], x, y, [layerNorm17(['x', 'weight', 'bias'], 'y')], modulation),
        },
        {
          what: `LayerNormalization-17 (unit scale) + Mul + Add, [${inp.weightShape}] broadcast`,
          graph: model(
            [{ version: 17 }],
            x,
            y,
            [
              layerNorm17(['x', 'ones'], 'n'),
              { op: 'Mul', inputs: ['n', 'weight'], outputs: ['m'] },
              { op: 'Add', inputs: ['m', 'bias'], outputs: ['y'] },
            ],
            [{ name: 'ones', dims: [H], data: new Float32Array(H).fill(1) }, ...modulation],
          ),
        },
      ];
    }
    case 'skiplayernorm-bias':
      return [
        {
          what: 'com.microsoft.SkipLayerNormalization with its bias input',
          graph: model(
            [{ version: 17 }, { domain: 'com.microsoft', version: 1 }],
            xr,
            y,
            [contrib('SkipLayerNormalization', ['x', 'residual', 'weight', 'bias', 'inputBias'], ['y'], { epsilon: f(eps) })],
            [...affine, vec('inputBias')],
          ),
        },
      ];
    default:
      return undefined;
  }
}

const message = (e) => String(e?.message ?? e).split('\n')[0];

/**
 * The first candidate onnxruntime accepts (session created, one run done), with a note saying what ran and
 * why any earlier candidate was refused. Refusals other than a missing kernel are errors.
 */
async function firstAccepted(ort, sessionOptions, provider, candidates, feedsOf) {
  const refused = [];
  for (const { what, graph } of candidates) {
    let session;
    try {
      session = await ort.InferenceSession.create(encodeModel(graph), sessionOptions);
      await session.run(feedsOf(graph));
    } catch (e) {
      await session?.release();
      const m = message(e);
      const missing = /Could not find an implementation for (\w+)/.exec(m);
      refused.push(missing ? `the ${provider} has no ${missing[1]} kernel` : `${what}: ${m.slice(0, 200)}`);
      continue;
    }
    const note = refused.length ? `${refused.join('; ')}: timed ${what} instead` : `timed ${what}`;
    return { graph, session, note };
  }
  throw new Error(`onnxruntime (${provider}) ran none of: ${refused.join('; ')}`);
}

/**
 * AdaIN has no ONNX op; composed the way an exporter would: style statistics from ReduceMean, the
 * content normalized by InstanceNormalization (unit scale, zero bias), then rescaled and shifted.
 */
function adaINGraph(inp, C) {
  const { eps } = SETTINGS;
  const spatial = { axes: { ints: inp.shape.slice(2).map((_, k) => k + 2) }, keepdims: i(1) };
  const scalar = (name, v) => ({ name, dims: [], data: Float32Array.of(v) });
  return {
    irVersion: 8,
    opsets: [{ version: 17 }],
    inputs: [
      { name: 'x', dims: inp.shape },
      { name: 'style', dims: inp.styleShape },
    ],
    outputs: [{ name: 'y', dims: inp.shape }],
    nodes: [
      { op: 'ReduceMean', inputs: ['style'], outputs: ['sMean'], attrs: spatial },
      { op: 'Sub', inputs: ['style', 'sMean'], outputs: ['sDev'] },
      { op: 'Mul', inputs: ['sDev', 'sDev'], outputs: ['sSq'] },
      { op: 'ReduceMean', inputs: ['sSq'], outputs: ['sVar'], attrs: spatial },
      { op: 'Add', inputs: ['sVar', 'eps'], outputs: ['sVarEps'] },
      { op: 'Sqrt', inputs: ['sVarEps'], outputs: ['sSigma'] },
      { op: 'InstanceNormalization', inputs: ['x', 'ones', 'zeros'], outputs: ['xHat'], attrs: { epsilon: f(eps) } },
      { op: 'Mul', inputs: ['xHat', 'sSigma'], outputs: ['scaled'] },
      { op: 'Add', inputs: ['scaled', 'sMean'], outputs: ['y'] },
    ],
    initializers: [
      scalar('eps', eps),
      { name: 'ones', dims: [C], data: new Float32Array(C).fill(1) },
      { name: 'zeros', dims: [C], data: new Float32Array(C) },
    ],
  };
}

/**
 * Issue 12: the graph with every tensor in the case's half precision (initializers as bits), or as it is.
 */
function inDtype(graph, dtype) {
  if (!dtype) return graph;
  const initializers = (graph.initializers ?? []).map((t) => ({ ...t, data: narrow(Float32Array.from(t.data), dtype) }));
  return { ...graph, elemType: ELEM_TYPES[dtype], initializers };
}

/** Creates the session and runs it once; for a half-precision case a refusal means no kernel for the dtype. */
async function halfSession(ort, sessionOptions, provider, graph, feedsOf, dtype) {
  let session;
  try {
    session = await ort.InferenceSession.create(encodeModel(graph), sessionOptions);
    await session.run(feedsOf(graph));
    return session;
  } catch (e) {
    await session?.release();
    throw Object.assign(new Error(`the ${provider} runs no ${dtype} graph of this op: ${message(e).slice(0, 200)}`), { unsupported: true });
  }
}

function runtime(ort, sessionOptions, provider) {
  return async (c, inp) => {
    const dtype = inp.dtype;
    // Run-time inputs are named after the case's inputs (x, residual, style), converted once to the case's
    // storage (half-precision bits), as a model's inputs arrive.
    const inputsOf = (graph) => graph.inputs.map(({ name, dims }) => ({ name, dims, data: dtype ? narrow(inp[name], dtype) : inp[name] }));
    const feedsFor = (inputs) => {
      const feeds = {};
      for (const { name, dims, data } of inputs) feeds[name] = new ort.Tensor(dtype ?? 'float32', data, dims);
      return feeds;
    };
    const feedsOf = (graph) => feedsFor(inputsOf(graph));
    const candidates = candidatesFor(c, inp);
    let graph;
    let session;
    let note;
    if (candidates) ({ graph, session, note } = await firstAccepted(ort, sessionOptions, provider, candidates, feedsOf));
    else {
      graph = inDtype(graphFor(c, inp), dtype);
      session = dtype
        ? await halfSession(ort, sessionOptions, provider, graph, feedsOf, dtype)
        : await ort.InferenceSession.create(encodeModel(graph), sessionOptions);
    }
    const inputs = inputsOf(graph);
    const values = (t) => (t === undefined || !dtype ? t?.data : widen(t.data, dtype));
    let result;
    return {
      run: async () => {
        result = await session.run(feedsFor(inputs));
      },
      isAsync: true,
      // Training's running statistics follow ONNX's convention (biased variance), so only y is compared
      // (and SkipGroupNorm's sum output s).
      read: () => ({ y: values(result.y), sum: values(result.s) }),
      dispose: () => session.release(),
      note: dtype ? `${dtype} graph` : note,
    };
  };
}

/** onnxruntime-node: native CPU execution provider, with one intra-op thread and with one per core. */
export async function createNode() {
  const ort = (await import('onnxruntime-node')).default;
  return [1, availableParallelism()].map((threads) => {
    const options = { intraOpNumThreads: threads, interOpNumThreads: 1, executionProviders: ['cpu'] };
    return {
      id: threads === 1 ? 'ort-node' : 'ort-node-mt',
      label: `onnxruntime-node ${packageVersion('onnxruntime-node')}, native CPU EP, intraOpNumThreads ${threads}; per call new ort.Tensor + session.run`,
      info: { version: packageVersion('onnxruntime-node'), common: packageVersion('onnxruntime-common'), ...options },
      layout: () => 'NCHW',
      prepare: runtime(ort, options, 'CPU execution provider'),
    };
  });
}

/**
 * onnxruntime-web's wasm backend in Node (1.30 ships only the SIMD build), with `threads` threads (its
 * numThreads is global to the process: one family per count).
 */
async function createWeb(threads) {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  const options = { executionProviders: ['wasm'] };
  return [
    {
      id: threads === 1 ? 'ort-web' : 'ort-web-mt',
      label: `onnxruntime-web ${packageVersion('onnxruntime-web')} in Node, wasm EP (SIMD), numThreads ${threads}; per call new ort.Tensor + session.run`,
      info: { version: packageVersion('onnxruntime-web'), common: packageVersion('onnxruntime-common'), numThreads: threads, ...options },
      layout: () => 'NCHW',
      prepare: runtime(ort, options, 'wasm execution provider'),
    },
  ];
}

export const createWebSingle = () => createWeb(1);
export const createWebThreaded = () => createWeb(availableParallelism());
