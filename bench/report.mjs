// Turns the per-pass results into the published tables: times, speed-ups, accuracy and the targets.
import { elements, trafficBytes, trafficFloats, TOLERANCE } from './cases.mjs';

const IMPL_ORDER = [
  'normkit-copy', 'normkit-alloc', 'normkit-zc', 'normkit-copy-mt', 'normkit-zc-mt', 'normkit-js-convert', 'js', 'ort-web',
  'ort-web-mt', 'ort-node', 'ort-node-mt', 'tfjs', 'roofline',
];
/** The peers normkit is compared against, in table order. */
const PEERS = ['js', 'ort-web', 'ort-node', 'tfjs'];
const WASM_JS_PEERS = ['js', 'ort-web', 'tfjs'];
/** Pass medians further apart than this are flagged. */
const UNSTABLE = 1.25;
const MIB = 2 ** 20;

const SHORT = {
  'normkit-copy': 'normkit copy',
  'normkit-alloc': 'normkit alloc',
  'normkit-zc': 'normkit zero-copy',
  'normkit-copy-mt': 'normkit copy, threads',
  'normkit-zc-mt': 'normkit zero-copy, threads',
  'normkit-js-convert': 'JS convert + normkit',
  js: 'plain JS',
  'ort-web': 'ort-web',
  'ort-web-mt': 'ort-web, threads',
  'ort-node': 'ort-node',
  'ort-node-mt': 'ort-node, threads',
  tfjs: 'tfjs-wasm',
  roofline: 'roofline',
};

/** Best (lowest) median over passes; a wrong or failing pass makes the whole entry wrong or failing. */
function merge(rows) {
  const timed = rows.filter((r) => r.status === 'ok');
  const worstErr = Math.max(...rows.map((r) => (r.err === undefined ? 0 : r.err)));
  const entry = { err: rows.some((r) => r.err !== undefined) ? worstErr : undefined, layout: rows[0].layout };
  // What the peer ran, when it says (onnxruntime without a contrib kernel); the same in every pass.
  const note = rows.find((r) => r.note)?.note;
  if (note) entry.note = note;
  const bad = rows.find((r) => r.status === 'wrong') ?? rows.find((r) => r.status === 'error') ?? rows.find((r) => r.status === 'unsupported');
  if (bad) return { ...entry, status: bad.status, message: bad.message };
  const medians = timed.map((r) => r.medianUs);
  const best = timed.reduce((a, r) => (r.medianUs < a.medianUs ? r : a));
  return {
    ...entry,
    status: 'ok',
    medianUs: best.medianUs,
    batch: best.batch,
    samples: best.samples,
    passMediansUs: medians,
    spread: Math.max(...medians) / Math.min(...medians),
  };
}

/** `{ [caseId]: { [implId]: entry } }` with GB/s and the roofline ratio filled in. */
export function summarize(cases, results) {
  const table = {};
  for (const c of cases) {
    const row = (table[c.id] = {});
    for (const id of IMPL_ORDER) {
      const rows = results.filter((r) => r.case === c.id && r.impl === id);
      if (rows.length) row[id] = merge(rows);
    }
    const roof = row.roofline?.status === 'ok' ? row.roofline.medianUs : undefined;
    for (const e of Object.values(row)) {
      if (e.status !== 'ok') continue;
      e.gbps = trafficBytes(c) / (e.medianUs * 1e3);
      if (roof) e.xRoofline = e.medianUs / roof;
    }
  }
  return table;
}

const ok = (e) => e?.status === 'ok';
/** How many times faster `fast` is than `slow` (both must have been timed). */
const speedup = (slow, fast) => (ok(slow) && ok(fast) ? slow.medianUs / fast.medianUs : undefined);

function fmtUs(us) {
  if (us >= 100) return us.toFixed(0);
  if (us >= 10) return us.toFixed(1);
  if (us >= 1) return us.toFixed(2);
  return us.toFixed(3);
}
const fmtX = (x) => (x === undefined ? '–' : `${x >= 10 ? x.toFixed(1) : x.toFixed(2)}×`);
const fmtErr = (e) => (e === undefined ? '–' : e === Infinity ? 'NaN/Inf' : e.toExponential(1));
const dagger = (e) => (e.spread > UNSTABLE ? ' †' : '');

function statusCell(e) {
  if (!e) return '–';
  if (e.status === 'wrong') return `**WRONG** (${fmtErr(e.err)})`;
  if (e.status === 'error') return 'error';
  if (e.status === 'unsupported') return 'n/a';
  return null;
}

function mdTable(head, rows, align) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [line(head), line(align ?? head.map((_, k) => (k === 0 ? '---' : '---:'))), ...rows.map(line)].join('\n');
}

function timesTable(cases, table, impls) {
  return mdTable(
    ['case', ...impls.map((id) => SHORT[id])],
    cases.map((c) => [
      c.id,
      ...impls.map((id) => {
        const e = table[c.id][id];
        return statusCell(e) ?? `${fmtUs(e.medianUs)} µs · ${e.gbps.toFixed(e.gbps >= 10 ? 1 : 2)} GB/s${dagger(e)}`;
      }),
    ]),
  );
}

function speedupTable(cases, table) {
  const modes = [
    ['normkit-copy', 'copy'],
    ['normkit-zc', 'zero-copy'],
  ];
  const head = ['case'];
  for (const [, name] of modes) for (const p of PEERS) head.push(`${name} vs ${SHORT[p]}`);
  head.push('copy ×roofline', 'alloc ×roofline', 'zero-copy ×roofline');
  const rows = cases.map((c) => {
    const r = table[c.id];
    const cells = [c.id];
    for (const [id] of modes) for (const p of PEERS) cells.push(fmtX(speedup(r[p], r[id])));
    for (const id of ['normkit-copy', 'normkit-alloc', 'normkit-zc']) cells.push(fmtX(r[id]?.xRoofline));
    return cells;
  });
  return mdTable(head, rows);
}

function accuracyTable(cases, table, impls) {
  const checked = impls.filter((id) => id !== 'roofline');
  return mdTable(
    ['case', ...checked.map((id) => SHORT[id])],
    cases.map((c) => [
      c.id,
      ...checked.map((id) => {
        const e = table[c.id][id];
        if (!e) return '–';
        const layout = e.layout !== c.layout ? ` (${e.layout})` : '';
        return e.status === 'wrong' ? `**${fmtErr(e.err)}**${layout}` : `${fmtErr(e.err)}${layout}`;
      }),
    ]),
  );
}

/** Zero-copy time of an issue-10 case over that of its base case (the same op without the new options). */
function costRatio(c, table, impl = 'normkit-zc') {
  const mine = table[c.id]?.[impl];
  const base = c.base && table[c.base]?.[impl];
  return ok(mine) && ok(base) ? mine.medianUs / base.medianUs : undefined;
}

/** Issue 10's bar: the fused option costs at most this much over the same op without it (zero-copy). */
const ISSUE10_COST = 1.15;

/**
 * Each target: which cases it applies to, the figure, and the bar. A target whose normkit side failed is a
 * MISS; one whose peer was not timed is not counted. The targets before issue 10's leave its cases (those
 * with a `base`) out, so their verdicts and geomeans stay over the same cases as before.
 */
const OLDER_TARGETS = [
  {
    name: 'zero-copy vs ort-node',
    bar: 'speed-up ≥ 1.0×',
    value: (r) => speedup(r['ort-node'], r['normkit-zc']),
    pass: (v) => v >= 1,
    mine: 'normkit-zc',
    peer: 'ort-node',
  },
  {
    name: 'zero-copy ×roofline (x ≥ 1 MiB)',
    bar: '≤ 1.5×',
    applies: (c) => elements(c.shape) * 4 >= MIB,
    value: (r) => r['normkit-zc']?.xRoofline,
    pass: (v) => v <= 1.5,
    mine: 'normkit-zc',
    peer: 'roofline',
  },
  ...WASM_JS_PEERS.map((p) => ({
    name: `copy vs ${SHORT[p]}`,
    bar: 'speed-up ≥ 1.5×, geomean ≥ 3×',
    value: (r) => speedup(r[p], r['normkit-copy']),
    pass: (v) => v >= 1.5,
    geomean: 3,
    mine: 'normkit-copy',
    peer: p,
  })),
  {
    name: 'copy vs ort-node',
    bar: 'speed-up ≥ 0.9×',
    value: (r) => speedup(r['ort-node'], r['normkit-copy']),
    pass: (v) => v >= 0.9,
    mine: 'normkit-copy',
    peer: 'ort-node',
  },
  {
    name: 'copy on layernorm [1,1,768]',
    bar: '< 1 µs',
    applies: (c) => c.kind === 'layernorm' && c.shape.join(',') === '1,1,768',
    value: (r) => (ok(r['normkit-copy']) ? r['normkit-copy'].medianUs : undefined),
    pass: (v) => v < 1,
    format: (v) => `${fmtUs(v)} µs`,
    mine: 'normkit-copy',
  },
];

const ISSUE10_TARGETS = [
  {
    name: 'issue 10: zero-copy cost over the same op without the option',
    bar: `≤ ${ISSUE10_COST}×`,
    applies: (c) => Boolean(c.base),
    value: (r, c, table) => costRatio(c, table),
    pass: (v) => v <= ISSUE10_COST,
    mine: 'normkit-zc',
  },
  {
    name: "issue 10: zero-copy vs ort-node's op",
    bar: 'speed-up ≥ 1.0×',
    applies: (c) => Boolean(c.base),
    value: (r) => speedup(r['ort-node'], r['normkit-zc']),
    pass: (v) => v >= 1,
    mine: 'normkit-zc',
    peer: 'ort-node',
  },
];

/** Issue 11's classes of cases by the bytes they move (inputs read once, outputs written once). */
const LARGE = (c) => trafficBytes(c) >= 4 * MIB;
const MEDIUM = (c) => trafficBytes(c) >= MIB && trafficBytes(c) < 4 * MIB;
const SMALL = (c) => trafficBytes(c) < MIB;
/** Issue 11: within this of the roofline, a large case needs no speed-up from threads. */
const NEAR_ROOFLINE = 1.15;

/** Issue 11's targets, zero-copy with a thread per core against one thread, the roofline and ort-node on every core. */
const ISSUE11_TARGETS = [
  {
    name: 'issue 11: threads vs 1 thread, traffic ≥ 4 MiB',
    bar: `speed-up ≥ 1.5× unless within ${NEAR_ROOFLINE}× of the roofline`,
    applies: LARGE,
    value: (r) => speedup(r['normkit-zc'], r['normkit-zc-mt']),
    pass: (v, r) => v >= 1.5 || r['normkit-zc-mt'].xRoofline <= NEAR_ROOFLINE,
    mine: 'normkit-zc-mt',
  },
  {
    name: 'issue 11: threads ×roofline, traffic ≥ 4 MiB',
    bar: '≤ 1.3×',
    applies: LARGE,
    value: (r) => r['normkit-zc-mt']?.xRoofline,
    pass: (v) => v <= 1.3,
    mine: 'normkit-zc-mt',
    peer: 'roofline',
  },
  {
    name: 'issue 11: threads ×roofline, traffic 1 to 4 MiB',
    bar: '≤ 2×',
    applies: MEDIUM,
    value: (r) => r['normkit-zc-mt']?.xRoofline,
    pass: (v) => v <= 2,
    mine: 'normkit-zc-mt',
    peer: 'roofline',
  },
  {
    name: 'issue 11: threads cost over 1 thread, traffic < 1 MiB',
    bar: '≤ 1.05×',
    applies: SMALL,
    value: (r) => speedup(r['normkit-zc-mt'], r['normkit-zc']),
    pass: (v) => v <= 1.05,
    mine: 'normkit-zc-mt',
  },
  {
    name: 'issue 11: threads vs ort-node on every core',
    bar: 'speed-up ≥ 1.0×',
    value: (r) => speedup(r['ort-node-mt'], r['normkit-zc-mt']),
    pass: (v) => v >= 1,
    mine: 'normkit-zc-mt',
    peer: 'ort-node-mt',
  },
];

/** Issue 12: where float32 moves 16 MiB or more, it is bound by memory and half precision should gain. */
const MEMORY_BOUND = 16 * MIB;
const memoryBound = (c) => trafficFloats(c) * 4 >= MEMORY_BOUND;
/** The float32 case's zero-copy time over this half-precision case's (above 1: half is faster). */
function halfSpeedup(c, table) {
  const f32 = c.float32 && table[c.float32]?.['normkit-zc'];
  return speedup(f32, table[c.id]?.['normkit-zc']);
}

const ISSUE12_TARGETS = [
  {
    name: 'issue 12: half vs float32 zero-copy where float32 is bound by memory (≥ 16 MiB)',
    bar: 'speed-up ≥ 1.3×',
    applies: (c) => Boolean(c.dtype) && memoryBound(c),
    value: (r, c, table) => halfSpeedup(c, table),
    pass: (v) => v >= 1.3,
    mine: 'normkit-zc',
  },
  // Elsewhere: bfloat16 (a shift to widen) no slower than 10 %, float16 (a few vector operations) within 1.5×.
  ...[['bfloat16', 1.1, 'no slower than 10 %'], ['float16', 1.5, 'within 1.5×']].map(([dtype, slower, what]) => ({
    name: `issue 12: ${dtype} vs float32 zero-copy elsewhere`,
    bar: `speed-up ≥ ${(1 / slower).toFixed(2)}× (${what})`,
    applies: (c) => c.dtype === dtype && !memoryBound(c),
    value: (r, c, table) => halfSpeedup(c, table),
    pass: (v) => v >= 1 / slower,
    mine: 'normkit-zc',
  })),
  {
    name: 'issue 12: zero-copy vs JS convert → float32 call → convert back',
    bar: 'speed-up ≥ 3×',
    applies: (c) => Boolean(c.dtype),
    value: (r) => speedup(r['normkit-js-convert'], r['normkit-zc']),
    pass: (v) => v >= 3,
    mine: 'normkit-zc',
    peer: 'normkit-js-convert',
  },
];

const TARGETS = [
  ...OLDER_TARGETS.map((t) => ({ ...t, applies: (c) => !c.base && !c.dtype && (t.applies?.(c) ?? true) })),
  ...ISSUE10_TARGETS,
  ...ISSUE11_TARGETS,
  ...ISSUE12_TARGETS,
];

/** Per target and case: `{ value, pass }`, `{ pass: false }` when normkit failed, or undefined (not counted). */
export function evaluateTargets(cases, table) {
  return TARGETS.map((t) => {
    const verdicts = {};
    for (const c of cases) {
      if (t.applies && !t.applies(c)) continue;
      const r = table[c.id];
      if (r[t.mine] && !ok(r[t.mine])) verdicts[c.id] = { pass: false, failed: r[t.mine].status };
      else {
        const value = t.value(r, c, table);
        if (value !== undefined) verdicts[c.id] = { value, pass: t.pass(value, r) };
      }
    }
    const values = Object.values(verdicts).filter((v) => v.value !== undefined);
    const geomean =
      t.geomean && values.length ? Math.exp(values.reduce((a, v) => a + Math.log(v.value), 0) / values.length) : undefined;
    return {
      name: t.name,
      bar: t.bar,
      verdicts,
      geomean,
      geomeanPass: geomean === undefined ? undefined : geomean >= t.geomean,
      format: t.format ?? fmtX,
    };
  });
}

function targetsSection(cases, targets) {
  const cell = (t, id) => {
    const v = t.verdicts[id];
    if (!v) return '–';
    if (v.failed) return `MISS (normkit ${v.failed})`;
    return `${t.format(v.value)} ${v.pass ? 'PASS' : '**MISS**'}`;
  };
  const table = mdTable(
    ['case', ...targets.map((t) => `${t.name} (${t.bar})`)],
    cases.map((c) => [c.id, ...targets.map((t) => cell(t, c.id))]),
  );
  const lines = targets.map((t) => {
    const entries = Object.entries(t.verdicts);
    const misses = entries.filter(([, v]) => !v.pass);
    const missText = misses.map(([id, v]) => `${id} ${v.failed ? `normkit ${v.failed}` : t.format(v.value)}`).join('; ');
    if (entries.length === 0) return `- n/a ${t.name} (${t.bar}): no case measured`;
    let line = `- **${misses.length ? 'MISS' : 'PASS'}** ${t.name} (${t.bar}): ${entries.length - misses.length}/${entries.length} pass`;
    if (misses.length) line += ` — misses: ${missText}`;
    if (t.geomean !== undefined) line += `; geomean ${fmtX(t.geomean)} **${t.geomeanPass ? 'PASS' : 'MISS'}**`;
    return line;
  });
  return `${table}\n\n${lines.join('\n')}`;
}

/**
 * Issue 10: each fused-option case beside its base case (zero-copy and copy-mode cost ratios, the traffic
 * ratio that bounds a memory-bound op from below) and against onnxruntime, with what onnxruntime ran.
 */
function issue10Section(cases, table) {
  const mine = cases.filter((c) => c.base);
  if (mine.length === 0) return undefined;
  const byId = Object.fromEntries(cases.map((c) => [c.id, c]));
  const time = (e) => statusCell(e)?.replace(/\*\*/g, '') ?? `${fmtUs(e.medianUs)} µs`;
  const rows = mine.map((c) => {
    const r = table[c.id];
    const base = table[c.base];
    const ratio = costRatio(c, table);
    const ratioCell = ratio === undefined ? '–' : `${fmtX(ratio)} ${ratio <= ISSUE10_COST ? 'PASS' : '**MISS**'}`;
    const traffic = byId[c.base] ? fmtX(trafficFloats(c) / trafficFloats(byId[c.base])) : '–';
    const vs = (p) => {
      const x = speedup(r[p], r['normkit-zc']);
      return x === undefined ? '–' : `${fmtX(x)}${p === 'ort-node' ? (x >= 1 ? ' PASS' : ' **MISS**') : ''}`;
    };
    return [
      c.id,
      base ? c.base : `${c.base} (not run)`,
      time(r['normkit-zc']),
      base ? time(base['normkit-zc']) : '–',
      ratioCell,
      traffic,
      fmtX(costRatio(c, table, 'normkit-copy')),
      time(r['ort-node']),
      vs('ort-node'),
      time(r['ort-web']),
      vs('ort-web'),
    ];
  });
  const head = [
    'case',
    'same op without the option',
    'zero-copy',
    'its zero-copy',
    `cost (≤ ${ISSUE10_COST}×)`,
    'traffic ×',
    'copy-mode cost',
    'ort-node',
    'zero-copy vs ort-node (≥ 1.0×)',
    'ort-web',
    'zero-copy vs ort-web',
  ];
  const notes = [];
  for (const c of mine) {
    for (const p of ['ort-node', 'ort-web']) {
      const e = table[c.id][p];
      if (e?.note) notes.push(`- ${SHORT[p]}, ${c.id}: ${e.note}`);
      else if (e?.status === 'error') notes.push(`- ${SHORT[p]}, ${c.id}: error — ${e.message}`);
    }
  }
  return `Each case of issue 10 beside the same op without the new options. **cost** = its zero-copy median over that op's; **traffic ×** = the floats it must move (inputs read once, outputs written once) over that op's, the ratio a memory-bound op cannot beat; **copy-mode cost** the same ratio in copy mode. Against onnxruntime: its contrib op where the execution provider has a kernel for it, otherwise the standard-op graph a model exported for that provider runs (what ran is listed below the table); the channel cases are fed to it in NCHW, as the older NHWC case is.

${mdTable(head, rows)}

What onnxruntime ran:

${notes.length ? notes.join('\n') : '- (onnxruntime not run)'}`;
}

/**
 * Issue 11: one thread against a thread per core, zero-copy and copy mode, beside the roofline and
 * onnxruntime on every core; cases in the traffic classes the issue's targets use.
 */
function issue11Section(cases, table, impls) {
  if (!cases.some((c) => table[c.id]['normkit-zc-mt'])) return undefined;
  const time = (e) => statusCell(e)?.replace(/\*\*/g, '') ?? `${fmtUs(e.medianUs)} µs`;
  const rows = cases.map((c) => {
    const r = table[c.id];
    return [
      c.id,
      `${(trafficBytes(c) / MIB).toFixed(1)} MiB`,
      time(r['normkit-zc']),
      time(r['normkit-zc-mt']),
      fmtX(speedup(r['normkit-zc'], r['normkit-zc-mt'])),
      fmtX(r['normkit-zc-mt']?.xRoofline),
      time(r['normkit-copy']),
      time(r['normkit-copy-mt']),
      fmtX(speedup(r['normkit-copy'], r['normkit-copy-mt'])),
      fmtX(r['normkit-copy-mt']?.xRoofline),
      time(r.roofline),
      time(r['ort-node-mt']),
      fmtX(speedup(r['ort-node-mt'], r['normkit-zc-mt'])),
      fmtX(speedup(r['ort-node-mt'], r['normkit-copy-mt'])),
      time(r['ort-web-mt']),
    ];
  });
  const head = [
    'case', 'traffic', 'zero-copy 1 thread', 'zero-copy threads', 'speed-up', 'threads ×roofline', 'copy 1 thread',
    'copy threads', 'speed-up', 'threads ×roofline', 'roofline', 'ort-node, threads', 'zero-copy threads vs it',
    'copy threads vs it', 'ort-web, threads',
  ];
  const threads = impls['normkit-zc-mt']?.info?.threads ?? '?';
  return `normkit with ${threads} threads (a thread per core) against one, in the same process, beside the roofline (one thread's \`Float32Array.prototype.set\` of the same bytes) and onnxruntime on every core (onnxruntime-node's intraOpNumThreads and onnxruntime-web's numThreads = ${threads}). Traffic = inputs read once + outputs written once; the targets (above) take ≥ 4 MiB, 1 to 4 MiB and the rest apart.

${mdTable(head, rows)}`;
}

/**
 * Issue 12: each half-precision case beside its float32 case (zero-copy), the JS alternative, and
 * onnxruntime running the same graph in that dtype where its execution provider can.
 */
function issue12Section(cases, table) {
  const mine = cases.filter((c) => c.dtype);
  if (mine.length === 0) return undefined;
  const time = (e) => statusCell(e)?.replace(/\*\*/g, '') ?? `${fmtUs(e.medianUs)} µs`;
  const rows = mine.map((c) => {
    const r = table[c.id];
    const f32 = c.float32 && table[c.float32];
    return [
      c.id,
      f32 ? time(f32['normkit-zc']) : `${c.float32} (not run)`,
      time(r['normkit-zc']),
      fmtX(halfSpeedup(c, table)),
      time(r['normkit-copy']),
      time(r['normkit-js-convert']),
      fmtX(speedup(r['normkit-js-convert'], r['normkit-zc'])),
      time(r['ort-node']),
      fmtX(speedup(r['ort-node'], r['normkit-zc'])),
      time(r['ort-web']),
      fmtX(speedup(r['ort-web'], r['normkit-zc'])),
    ];
  });
  const head = [
    'case', 'float32 zero-copy', 'zero-copy', 'vs float32', 'copy', 'JS convert + normkit', 'zero-copy vs JS convert',
    'ort-node', 'vs ort-node', 'ort-web', 'vs ort-web',
  ];
  const notes = [];
  for (const c of mine) {
    for (const p of ['ort-node', 'ort-web']) {
      const e = table[c.id][p];
      if (e?.status === 'unsupported') notes.push(`- ${SHORT[p]}, ${c.id}: ${e.message}`);
    }
  }
  return `Every reference case with its arrays stored in float16 or bfloat16 (the float32 case's values rounded), zero-copy (half-precision Tensors), beside the float32 case's zero-copy time. **vs float32** = float32 time / half time (above 1× half is faster); **JS convert + normkit** = what a user without half-precision storage does per call: widen x (and the residual or style) in JavaScript, normkit's float32 copy mode, narrow y back. onnxruntime runs the case's graph with every tensor in the dtype where its execution provider has kernels for it (n/a: it has none; listed below).

${mdTable(head, rows)}

Where onnxruntime has no half-precision kernel:

${notes.length ? notes.join('\n') : '- (none, or onnxruntime not run)'}`;
}

function stabilitySection(cases, table, results = []) {
  const lines = [];
  for (const c of cases) {
    for (const [id, e] of Object.entries(table[c.id])) {
      if (e.spread > UNSTABLE) {
        lines.push(`- ${SHORT[id]} ${c.id}: ${e.passMediansUs.map(fmtUs).join(' / ')} µs (×${e.spread.toFixed(2)})`);
      }
    }
  }
  if (lines.length === 0) lines.push('All pass medians within 25 %.');
  const preempted = results
    .map((r) => ({ r, share: waitShare([r]) }))
    .filter(({ share }) => share !== undefined && share > PREEMPTED)
    .sort((a, b) => b.share - a.share);
  if (preempted.length) {
    const shown = preempted.slice(0, 20);
    lines.push('', `Timings preempted by other work (their thread waited for a CPU more than ${pct(PREEMPTED)} of the timed time): ${preempted.length} of ${results.length}${shown.length < preempted.length ? `, the worst ${shown.length}` : ''}:`, '');
    for (const { r, share } of shown) lines.push(`- pass ${r.pass}, ${SHORT[r.impl] ?? r.impl} ${r.case}: ${pct(share)}`);
  }
  return lines.join('\n');
}

function problemsSection(cases, table, familyErrors) {
  const lines = familyErrors.map((f) => `- ${f.family}: could not start — ${f.message}`);
  for (const c of cases) {
    for (const [id, e] of Object.entries(table[c.id])) {
      if (e.status === 'error') lines.push(`- ${SHORT[id]} ${c.id}: error — ${e.message}`);
      if (e.status === 'wrong') lines.push(`- ${SHORT[id]} ${c.id}: WRONG, max error ${fmtErr(e.err)} > ${TOLERANCE} (not timed)`);
    }
  }
  return lines.length ? lines.join('\n') : 'none';
}

/** Above this share of its timed wall time spent waiting for a CPU, a timing thread counts as preempted. */
export const PREEMPTED = 0.05;
const pct = (f) => `${(f * 100).toFixed(f < 0.1 ? 1 : 0)} %`;

/** Share of the timed wall time the timing threads spent waiting for a CPU, over the given result rows. */
export function waitShare(rows) {
  let run = 0;
  let wait = 0;
  for (const r of rows) {
    if (!r.sched) continue;
    run += r.sched.runNs;
    wait += r.sched.waitNs;
  }
  return run + wait > 0 ? wait / (run + wait) : undefined;
}

/**
 * Whether other work on the machine took CPU time from the timing loops. The direct measure is the run-queue
 * delay of the timing threads themselves (/proc/thread-self/schedstat): other processes that run on another
 * core cost the loops nothing, so their CPU use alone does not make the machine busy (deciding by it, above a
 * fifth of the cores, raised false alarms on a 2-core box). A hypervisor's steal is invisible to the guest's
 * scheduler, so it is checked on its own.
 */
export function busyVerdict({ preemption, contention }, cores) {
  const waited = preemption?.[0];
  const steal = contention?.[0]?.steal;
  const reasons = [];
  if (waited !== undefined && waited > PREEMPTED) reasons.push(`the timing threads waited for a CPU ${pct(waited)} of the time`);
  if (steal !== undefined && steal / cores > PREEMPTED) reasons.push(`the hypervisor took ${pct(steal / cores)} of the cores (steal)`);
  return { busy: reasons.length > 0, reasons, measured: waited !== undefined || steal !== undefined };
}

/** One line on how much other work competed with the run, overall and per pass. */
export function machineText(report, cores) {
  const { preemption = [], contention = [] } = report;
  const [waited, ...waitedPerPass] = preemption;
  const [other, ...otherPerPass] = contention;
  const parts = [];
  if (waited !== undefined) {
    const perPass = waitedPerPass.length > 1 ? ` (per pass: ${waitedPerPass.map((w) => (w === undefined ? '–' : pct(w))).join(' / ')})` : '';
    parts.push(`the timing threads waited for a CPU ${pct(waited)} of the timed time${perPass}`);
  } else parts.push('run-queue waits not measured (no /proc/thread-self/schedstat)');
  if (other !== undefined) {
    const perPass = otherPerPass.length > 1 ? ` (per pass: ${otherPerPass.map((o) => o.processes.toFixed(2)).join(' / ')})` : '';
    parts.push(`other processes used ${other.processes.toFixed(2)} of ${cores} cores${perPass}`);
    if (other.steal > 0.005) parts.push(`hypervisor steal ${other.steal.toFixed(2)} cores`);
  }
  const verdict = busyVerdict(report, cores);
  const flag = verdict.busy ? ' — **busy**: preemption inflates the medians of long calls' : '';
  return `${parts.join('; ')}${flag}`;
}

/** The whole report as markdown (also what the terminal shows). */
export function renderMarkdown(report) {
  const { cases, table, targets, impls, env, settings, familyErrors, startedAt, wallSeconds, argv } = report;
  const present = IMPL_ORDER.filter((id) => cases.some((c) => table[c.id][id]));
  const versions = Object.entries(env.packages)
    .map(([p, v]) => `${p} ${v}`)
    .join(', ');
  const issue10 = issue10Section(cases, table);
  const issue11 = issue11Section(cases, table, impls);
  const issue12 = issue12Section(cases, table);
  const implLines = present.map((id) => {
    const m = impls[id];
    const info = m && Object.keys(m.info).length ? `<br>init ${m.initMs.toFixed(0)} ms: \`${JSON.stringify(m.info)}\`` : '';
    return `- **${SHORT[id]}** — ${m?.label ?? id}${info}`;
  });
  return `# normkit benchmark

Generated by \`node bench/run.mjs${argv.length ? ` ${argv.join(' ')}` : ''}\` on ${startedAt} (wall time ${wallSeconds.toFixed(0)} s).

- Machine: ${env.cpu}, ${env.cores} logical cores, ${env.memoryGiB} GiB, ${env.os}; ${machineText(report, env.cores)}
- Node ${env.node}; normkit ${env.normkit}; ${versions}
- Method: tinybench, per task ${settings.warmupTime} ms warm-up then ${settings.time} ms (at least 8 samples); calls batched so one sample lasts ≥ 50 µs. Reported: **median µs per call**, best of ${settings.passes} pass(es); each pass starts a fresh Node process per peer family (normkit + plain JS + roofline share one). **†** = pass medians differ by more than 25 %.
- Inputs (float32, seeded): x ~ U(-2, 3), weight ~ U(0.5, 1.5), bias ~ U(-0.5, 0.5), eps 1e-5; batch-norm running mean ~ U(0, 1), var ~ U(1.5, 2.5), momentum 0.1 (ONNX 0.9); AdaIN style ~ U(-1, 4); issue 10's residual ~ U(-2, 3) and inputBias ~ U(-0.5, 0.5). Training calls restart from the same running statistics.
- GB/s = (run-time inputs read once + outputs written once) × 4 B / median: 2 tensors, 3 with a residual, 4 with a residual and a sum output (SkipGroupNorm), content + style + output for AdaIN. Weights, biases (also AdaLN's per-sample ones) and statistics are not counted. **×roofline** = median / median of \`Float32Array.prototype.set\` moving the same bytes.
- Correctness: before timing, each output (and the updated running statistics where the peer follows PyTorch's convention) is compared with normkit's float64 reference; error = max |y − ref| / max(1, |ref|); above ${TOLERANCE} (plus one rounding of the output in half-precision cases: 2^-11 float16, 2^-8 bfloat16) the implementation is reported WRONG and not timed. Half-precision cases: GB/s counts 2 B per element; the reference is that of the rounded inputs. Peers fed another layout (shown in the accuracy table) are compared in that layout.

## Implementations

${implLines.join('\n')}

## Median per call

${timesTable(cases, table, present)}

## Speed-up of normkit (peer time / normkit time) and ratio to the roofline

${speedupTable(cases, table)}

## Targets

${targetsSection(cases, targets)}

${issue10 ? `## Issue 10: fused options, their cost and onnxruntime's contrib ops\n\n${issue10}\n\n` : ''}${issue11 ? `## Issue 11: threads\n\n${issue11}\n\n` : ''}${issue12 ? `## Issue 12: half-precision storage\n\n${issue12}\n\n` : ''}## Accuracy: max error against the float64 reference

${accuracyTable(cases, table, present)}

## Stability

${stabilitySection(cases, table, report.results)}

## Errors

${problemsSection(cases, table, familyErrors)}
`;
}

/**
 * What makes the run fail (a non-zero exit code): an implementation whose output the correctness check
 * refused, an implementation that threw, or a peer family that could not start. Missed speed targets are
 * findings, not failures.
 */
export function failures({ cases, table, familyErrors }) {
  const list = familyErrors.map((f) => `${f.family} could not run: ${f.message}`);
  for (const c of cases) {
    for (const [id, e] of Object.entries(table[c.id])) {
      if (e.status === 'wrong') list.push(`${SHORT[id]} on ${c.id}: WRONG, max error ${fmtErr(e.err)} > ${TOLERANCE}`);
      if (e.status === 'error') list.push(`${SHORT[id]} on ${c.id}: error: ${e.message}`);
    }
  }
  return list;
}

const WIDTH = 118;
const NBSP = '\u00a0';

/** `prefix` then the words of `text`, in lines of at most WIDTH characters; later lines start with `indent`. */
function wrap(prefix, text, indent) {
  const lines = [];
  let line = prefix;
  for (const w of text.split(' ')) {
    if (line.trim() && line.length + 1 + w.length > WIDTH) {
      lines.push(line);
      line = indent + w;
    } else line = line === prefix || line === indent ? line + w : `${line} ${w}`;
  }
  lines.push(line);
  return lines.map((l) => l.replaceAll(NBSP, ' '));
}

const pad = (text, n) => text + ' '.repeat(Math.max(1, n - [...text].length));

/**
 * The terminal's short answer: per case the fastest implementation and normkit's speed-up over each peer,
 * then the targets, correctness and how busy the machine was. Every line fits in 120 columns.
 */
export function renderSummary(report) {
  const { cases, table, targets, env, settings, wallSeconds } = report;
  const peers = PEERS.filter((p) => cases.some((c) => table[c.id][p]));
  const caseWidth = Math.max(4, ...cases.map((c) => c.id.length)) + 2;
  const out = [
    `normkit bench: ${cases.length} case${cases.length === 1 ? '' : 's'}, ${settings.passes} pass${settings.passes === 1 ? '' : 'es'}, ` +
      `${wallSeconds.toFixed(0)} s; Node ${env.node}, ${env.cpu} (${env.cores} cores)`,
    '',
    'Speed-up of normkit over each peer (peer time / normkit time), copy mode / zero-copy; above 1× normkit is faster.',
    '',
    pad('case', caseWidth) + pad('fastest', 28) + peers.map((p) => pad(SHORT[p], 14)).join('').trimEnd(),
  ];
  for (const c of cases) {
    const r = table[c.id];
    const timed = IMPL_ORDER.filter((id) => id !== 'roofline' && ok(r[id]));
    const best = timed.reduce((a, id) => (a === undefined || r[id].medianUs < r[a].medianUs ? id : a), undefined);
    const fastest = best ? `${SHORT[best]} ${fmtUs(r[best].medianUs)} µs` : '–';
    const cells = peers.map((p) => {
      const bad = statusCell(r[p]);
      if (bad) return bad.replace(/\*\*/g, '').replace(/ \(.*\)$/, '');
      const copy = speedup(r[p], r['normkit-copy']);
      const zc = speedup(r[p], r['normkit-zc']);
      const num = (x) => (x === undefined ? '–' : x >= 10 ? x.toFixed(1) : x.toFixed(2));
      return `${num(copy)}/${num(zc)}×`;
    });
    out.push((pad(c.id, caseWidth) + pad(fastest, 28) + cells.map((t) => pad(t, 14)).join('')).trimEnd());
  }
  const issue10 = cases.filter((c) => c.base);
  if (issue10.length) {
    const byId = Object.fromEntries(cases.map((c) => [c.id, c]));
    out.push('', `Issue 10: zero-copy cost over the same op without the option (≤ ${ISSUE10_COST}×; traffic ratio in brackets),`);
    out.push("  and speed-up over onnxruntime-node's op (≥ 1.0×; what it ran when it has no contrib kernel)");
    for (const c of issue10) {
      const r = table[c.id];
      const ratio = costRatio(c, table);
      const traffic = byId[c.base] ? ` [${fmtX(trafficFloats(c) / trafficFloats(byId[c.base]))}]` : '';
      const cost = ratio !== undefined ? `${fmtX(ratio)}${traffic}` : ok(r['normkit-zc']) ? `– (${c.base} not timed)` : `normkit ${r['normkit-zc']?.status ?? 'not run'}`;
      const vs = speedup(r['ort-node'], r['normkit-zc']);
      const missing = /has no (\w+) kernel/.exec(r['ort-node']?.note ?? '');
      const peer = vs === undefined ? '–' : `${fmtX(vs)}${missing ? ` (no ${missing[1]} kernel: standard ops)` : ''}`;
      out.push(...wrap('  ', `${pad(c.id, caseWidth)}cost ${pad(cost, 18)}vs ort-node ${peer}`.replace(/ /g, NBSP), '    '));
    }
  }
  const issue12 = cases.filter((c) => c.dtype);
  if (issue12.length) {
    out.push('', 'Issue 12: half-precision zero-copy, speed-up over the float32 case (zero-copy), over JS convert + normkit,');
    out.push('  and over onnxruntime-node running the graph in that dtype (n/a: no kernel for it)');
    for (const c of issue12) {
      const r = table[c.id];
      const vsOrt = statusCell(r['ort-node'])?.replace(/\*\*/g, '') ?? fmtX(speedup(r['ort-node'], r['normkit-zc']));
      const text = `${pad(c.id, caseWidth)}vs float32 ${pad(fmtX(halfSpeedup(c, table)), 8)}vs JS convert ${pad(fmtX(speedup(r['normkit-js-convert'], r['normkit-zc'])), 8)}vs ort-node ${vsOrt}`;
      out.push(...wrap('  ', text.replace(/ /g, NBSP), '    '));
    }
  }
  out.push('', 'Targets');
  for (const t of targets) {
    const entries = Object.entries(t.verdicts);
    if (entries.length === 0) {
      out.push(`  n/a   ${t.name} (${t.bar}): no case measured`);
      continue;
    }
    const misses = entries.filter(([, v]) => !v.pass);
    let text = `${t.name} (${t.bar}): ${entries.length - misses.length}/${entries.length} pass`;
    if (t.geomean !== undefined) text += `, geomean ${fmtX(t.geomean)} ${t.geomeanPass ? 'PASS' : 'MISS'}`;
    if (misses.length) {
      // A miss (case and figure) is not broken across lines: its spaces are no-break spaces until printed.
      const item = ([id, v]) => `${id} ${v.failed ? `(normkit ${v.failed})` : t.format(v.value)}`.replace(/ /g, NBSP);
      text += `; misses: ${misses.map(item).join(', ')}`;
    }
    out.push(...wrap(misses.length ? '  MISS  ' : '  PASS  ', text, '        '));
  }
  const checked = cases.reduce((n, c) => n + Object.values(table[c.id]).filter((e) => e.err !== undefined).length, 0);
  const failed = failures(report);
  out.push('');
  if (failed.length === 0) {
    out.push(`Correctness: all ${checked} checked outputs within ${TOLERANCE} of the float64 reference (max |y - ref| / max(1, |ref|)).`);
  } else {
    out.push(`FAILED: ${failed.length} check${failed.length === 1 ? '' : 's'} (exit code 1):`);
    for (const f of failed) out.push(...wrap('  ', f, '    '));
  }
  const verdict = busyVerdict(report, env.cores);
  if (verdict.busy) out.push(...wrap('Machine busy: ', `${verdict.reasons.join('; ')}; the medians of long calls are inflated.`, '  '));
  else if (verdict.measured) out.push(...wrap('Machine: ', `${machineText(report, env.cores)}.`, '  '));
  return `${out.join('\n')}\n`;
}
