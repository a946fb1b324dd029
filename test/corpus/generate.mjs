#!/usr/bin/env node
// Writes test/corpus/op-hashes.json: the SHA-256 of every output of every case in test/corpus/cases.ts
// (copy mode and zero-copy), computed by one build of normkit. test/corpus.test.ts re-runs the cases with
// the current source and compares.
//
//   node test/corpus/generate.mjs --from /work/base/dist/index.js
//       Rewrites the whole corpus from the given build. This must be the release before the plan/executor
//       refactor (commit 43cdaf9): the corpus is what "same bits as before" means. To rebuild that release:
//         git worktree add /tmp/base 43cdaf9 && cd /tmp/base && npm ci && npm run build
//       A case added to cases.ts later also needs this: hashes come from the old release, never from the
//       code under test (run it, then redo any --update below for the families that were updated).
//
//   node test/corpus/generate.mjs --update nhwc-stats --update extreme-values [--from <module>]
//       Rewrites only the cases of the named families, from the current source (src/index.ts, built wasm:
//       run `npm run build:wasm` first) or from --from. For families whose bits change on purpose (issue 16:
//       channel-last statistics no longer depending on C, and the float32 range at its extremes). The
//       families list of the JSON records where each family's hashes came from. Every other family is kept
//       exactly as it is.
//
//   node test/corpus/generate.mjs --check [--from <module>]
//       Writes nothing; lists the cases whose hashes differ from the stored corpus, by family.
//
// A module ending in .ts is loaded through Vite's module runner (so the TypeScript cases and source load
// without a build step); anything else with a plain import().
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { runnerImport } from 'vite';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../..');
const corpusPath = resolve(here, 'op-hashes.json');

const args = process.argv.slice(2);
const update = [];
let from;
let check = false;
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--update') update.push(args[++i]);
  else if (a === '--from') from = args[++i];
  else if (a === '--check') check = true;
  else {
    console.error(`unknown argument ${a}\nusage: generate.mjs (--from <build> | --update FAMILY... [--from <build>] | --check [--from <build>])`);
    process.exit(2);
  }
}
if (!check && update.length === 0 && !from) {
  console.error('A full rewrite needs --from <the pre-refactor build, e.g. /work/base/dist/index.js>; use --update FAMILY to rewrite families from the current source.');
  process.exit(2);
}

const load = async (path) =>
  path.endsWith('.ts') ? (await runnerImport(path, { root, logLevel: 'warn' })).module : import(pathToFileURL(path).href);

const cases = await load(resolve(here, 'cases.ts'));
const modulePath = resolve(from ?? resolve(root, 'src/index.ts'));
const nk = await load(modulePath);
await nk.ready();

for (const f of update) {
  if (!cases.FAMILIES.includes(f)) {
    console.error(`unknown family ${f}; families: ${cases.FAMILIES.join(', ')}`);
    process.exit(2);
  }
}

function describeSource() {
  const dir = dirname(modulePath);
  try {
    const head = execFileSync('git', ['-C', dir, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', dir, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return `${head}${dirty ? ' + working-tree changes' : ''} (${modulePath})`;
  } catch {
    return modulePath;
  }
}

const stored = (() => {
  try {
    return JSON.parse(readFileSync(corpusPath, 'utf8'));
  } catch {
    return undefined;
  }
})();

const all = cases.corpusCases();
const selected = update.length ? all.filter((c) => update.includes(c.family)) : all;
const fresh = {};
let errors = 0;
let modeDiffs = 0;
const t0 = performance.now();
for (const c of selected) {
  const copy = await cases.hashCase(nk, c, 'copy');
  const tensor = await cases.hashCase(nk, c, 'tensor');
  if (copy.output.startsWith('error:')) {
    errors++;
    console.warn(`${c.name}: ${copy.output}`);
  }
  const entry = { family: c.family, input: copy.input, output: copy.output };
  if (tensor.output !== copy.output) {
    modeDiffs++;
    entry.tensor = tensor.output;
  }
  fresh[c.name] = entry;
}
const seconds = ((performance.now() - t0) / 1000).toFixed(1);

if (check) {
  if (!stored) throw new Error(`no corpus at ${corpusPath}`);
  const diff = {};
  for (const c of selected) {
    const s = stored.cases[c.name];
    const f = fresh[c.name];
    if (!s || s.output !== f.output || (s.tensor ?? s.output) !== (f.tensor ?? f.output) || s.input !== f.input) {
      (diff[c.family] ??= []).push(s ? c.name : `${c.name} (not in the corpus)`);
    }
  }
  for (const [family, names] of Object.entries(diff)) {
    console.log(`${family}: ${names.length} case(s) differ`);
    for (const n of names.slice(0, 20)) console.log(`  ${n}`);
  }
  console.log(`checked ${selected.length} cases against ${describeSource()} in ${seconds} s`);
  process.exit(Object.keys(diff).length ? 1 : 0);
}

const source = describeSource();
let result;
if (update.length) {
  if (!stored) throw new Error(`--update needs an existing corpus at ${corpusPath}`);
  result = stored;
  for (const [name, entry] of Object.entries(stored.cases)) if (update.includes(entry.family)) delete result.cases[name];
  Object.assign(result.cases, fresh);
  const order = new Map(all.map((c, i) => [c.name, i]));
  result.cases = Object.fromEntries(
    Object.entries(result.cases).sort(([a], [b]) => (order.get(a) ?? Infinity) - (order.get(b) ?? Infinity)),
  );
  for (const f of update) result.families[f] = { cases: 0, source: `updated from ${source}` };
} else {
  result = {
    about:
      'SHA-256 of every output of the cases in test/corpus/cases.ts (copy mode and zero-copy), written by ' +
      'test/corpus/generate.mjs; checked by test/corpus.test.ts. "tensor" appears only where zero-copy gave other bits than copy mode.',
    source,
    families: Object.fromEntries(cases.FAMILIES.map((f) => [f, { cases: 0, source }])),
    cases: fresh,
  };
}
for (const f of Object.keys(result.families)) result.families[f].cases = 0;
for (const e of Object.values(result.cases)) result.families[e.family].cases++;

// One case a line keeps diffs readable.
const lines = Object.entries(result.cases).map(([name, e]) => `    ${JSON.stringify(name)}: ${JSON.stringify(e)}`);
const head = JSON.stringify({ about: result.about, source: result.source, families: result.families }, null, 2);
writeFileSync(corpusPath, `${head.slice(0, -2)},\n  "cases": {\n${lines.join(',\n')}\n  }\n}\n`);
console.log(
  `${update.length ? `updated ${update.join(', ')}: ` : ''}${selected.length} cases from ${source} in ${seconds} s ` +
    `(${errors} errors, ${modeDiffs} with zero-copy bits unlike copy mode) -> ${corpusPath}`,
);
process.exit(0);
