// onnxruntime, wasm backend in Node (onnxruntime-web) and native CPU (onnxruntime-node), one thread each,
// running a model built in code for each case. Per call: `new ort.Tensor` for every run-time input, then
// `session.run`. Weights are initializers, as in an exported model.
import { encodeModel } from './onnx-model.mjs';
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

function runtime(ort, sessionOptions) {
  return async (c, inp) => {
    const graph = graphFor(c, inp);
    const session = await ort.InferenceSession.create(encodeModel(graph), sessionOptions);
    // Run-time inputs are named after the case's inputs (x, residual, style).
    const inputs = graph.inputs.map(({ name, dims }) => ({ name, dims, data: inp[name] }));
    let result;
    return {
      run: async () => {
        const feeds = {};
        for (const { name, dims, data } of inputs) feeds[name] = new ort.Tensor('float32', data, dims);
        result = await session.run(feeds);
      },
      isAsync: true,
      // Training's running statistics follow ONNX's convention (biased variance), so only y is compared.
      read: () => ({ y: result.y.data }),
      dispose: () => session.release(),
    };
  };
}

/** onnxruntime-node: native CPU execution provider, one intra-op thread. */
export async function createNode() {
  const ort = (await import('onnxruntime-node')).default;
  const options = { intraOpNumThreads: 1, interOpNumThreads: 1, executionProviders: ['cpu'] };
  return [
    {
      id: 'ort-node',
      label: `onnxruntime-node ${packageVersion('onnxruntime-node')}, native CPU EP, intraOpNumThreads 1; per call new ort.Tensor + session.run`,
      info: { version: packageVersion('onnxruntime-node'), common: packageVersion('onnxruntime-common'), ...options },
      layout: () => 'NCHW',
      prepare: runtime(ort, options),
    },
  ];
}

/** onnxruntime-web's wasm backend in Node (1.30 ships only the SIMD build), one thread. */
export async function createWeb() {
  const ort = await import('onnxruntime-web');
  ort.env.wasm.numThreads = 1;
  ort.env.wasm.proxy = false;
  const options = { executionProviders: ['wasm'] };
  return [
    {
      id: 'ort-web',
      label: `onnxruntime-web ${packageVersion('onnxruntime-web')} in Node, wasm EP (SIMD), numThreads 1; per call new ort.Tensor + session.run`,
      info: { version: packageVersion('onnxruntime-web'), common: packageVersion('onnxruntime-common'), numThreads: 1, ...options },
      layout: () => 'NCHW',
      prepare: runtime(ort, options),
    },
  ];
}
