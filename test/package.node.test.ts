// The package as users get it: `npm pack` of the working tree, its file list, and an install of that tarball
// into a scratch project outside the repository, where an ES module, a CommonJS script and a strict
// TypeScript check (bundler and node16 resolution, with and without exactOptionalPropertyTypes) use it.
// Offline: normkit has no runtime dependencies, so the install needs nothing from the registry.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CJS_EXAMPLE, ESM_EXAMPLE, EXPECTED, repo, run, scratchProject } from './support/scratch.js';

const SLOW = 300_000;
const tsc = join(repo, 'node_modules/typescript/bin/tsc');

let packDir: string;
let tarball: string;
let files: string[];
let project: string;

beforeAll(() => {
  if (!existsSync(join(repo, 'dist/index.js'))) {
    throw new Error('dist/index.js is missing: run `npm run build` first (`npm test` does it as pretest).');
  }
  packDir = scratchProject('normkit-pack-');
  // --ignore-scripts: dist/ is already built (pretest), and rebuilding it here would race with the other
  // test files that import it. test/git-install.node.test.ts checks that `prepare` builds it.
  const out = run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], repo).stdout;
  const [info] = JSON.parse(out) as { filename: string; files: { path: string }[] }[];
  tarball = join(packDir, info.filename);
  files = run('tar', ['-tzf', tarball], packDir)
    .stdout.split('\n')
    .filter((f) => f && !f.endsWith('/'))
    .map((f) => f.replace(/^package\//, ''));
}, SLOW);

afterAll(() => {
  for (const dir of [packDir, project]) if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('ships the built package, its types, README, LICENSE and package.json', () => {
    for (const f of ['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']) expect(files).toContain(f);
    const js = files.filter((f) => f.endsWith('.js'));
    expect(js.length).toBeGreaterThan(3);
    // Every module has its declarations.
    for (const f of js) expect(files, f).toContain(f.replace(/\.js$/, '.d.ts'));
    expect(readFileSync(join(repo, 'LICENSE'), 'utf8')).toContain('Apache License');
  });

  it('ships no sources, tests, benchmarks, kernels or the float64 reference', () => {
    const unwanted = files.filter(
      (f) =>
        /^(src|test|bench|assembly|scripts|demo|examples|docs|build|\.ci)\//.test(f) ||
        /reference/i.test(f) ||
        (f.endsWith('.ts') && !f.endsWith('.d.ts')) ||
        f.endsWith('.wasm'),
    );
    expect(unwanted).toEqual([]);
  });

  it('ships no source map, and no file points at one that is missing', () => {
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    const dir = join(packDir, 'unpacked');
    run('mkdir', ['-p', dir], packDir);
    run('tar', ['-xzf', tarball, '-C', dir, '--strip-components=1'], packDir);
    for (const f of files.filter((p) => /\.(js|d\.ts)$/.test(p))) {
      const url = /[#@] sourceMappingURL=(\S+)/.exec(readFileSync(join(dir, f), 'utf8'))?.[1];
      if (url && !url.startsWith('data:')) expect(files, `${f} points at ${url}`).toContain(join(f, '..', url));
    }
  });

  it('package.json: exports, engines, repository and no install-time scripts for users', () => {
    const pkg = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8'));
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', default: './dist/index.js' });
    expect(pkg.engines.node).toBe('^20.19.0 || >=22.12.0');
    expect(pkg.repository.url).toMatch(/^git\+https:\/\/github\.com\//);
    expect(pkg.license).toBe('Apache-2.0');
    for (const s of ['preinstall', 'install', 'postinstall']) expect(pkg.scripts[s], s).toBeUndefined();
    expect(pkg.scripts.prepare).toBeDefined();
    expect(Object.keys(pkg.dependencies ?? {})).toEqual([]);
  });
});

describe('the tarball installed into a scratch project', () => {
  beforeAll(() => {
    project = scratchProject('normkit-consumer-');
    run('npm', ['install', '--offline', '--no-audit', '--no-fund', tarball], project, SLOW);
  }, SLOW);

  it('installs normkit with its dist/ and nothing else', () => {
    expect(existsSync(join(project, 'node_modules/normkit/dist/index.js'))).toBe(true);
    const lock = JSON.parse(readFileSync(join(project, 'package-lock.json'), 'utf8'));
    expect(Object.keys(lock.packages).filter((p) => p)).toEqual(['node_modules/normkit']);
  });

  it('an ES module imports it', () => {
    writeFileSync(join(project, 'esm.mjs'), ESM_EXAMPLE);
    expect(run(process.execPath, ['esm.mjs'], project).stdout.trim()).toBe(EXPECTED);
  });

  it('a CommonJS script require()s it, without warnings', () => {
    writeFileSync(join(project, 'cjs.cjs'), CJS_EXAMPLE);
    const { stdout, stderr } = run(process.execPath, ['cjs.cjs'], project);
    expect(stdout.trim()).toBe(EXPECTED);
    expect(stderr).toBe('');
  });

  const CONSUMER = `import {
  ready, layerNorm, rmsNorm, batchNorm, instanceNorm, groupNorm, adaIN, tensor, memoryStats, NormkitError, Tensor,
} from 'normkit';
import type {
  TensorLike, Layout, LayerNormOptions, RmsNormOptions, BatchNormOptions, ChannelNormOptions, AdaINOptions,
  NormkitErrorCode, Dtype, HalfDtype,
} from 'normkit';

await ready();
const x = new Float32Array(2 * 4);
// Options that may be undefined (exactOptionalPropertyTypes accepts them because the types say so).
const maybe: Float32Array | undefined = Math.random() > 2 ? new Float32Array(4) : undefined;
const ln: LayerNormOptions = { axis: -1, weight: maybe, bias: undefined, eps: 1e-5, out: undefined };
const y = layerNorm(x, [2, 4], ln);
// The result owns a plain ArrayBuffer (TypeScript 5.7+ would otherwise read Float32Array<ArrayBufferLike>).
const buffer: ArrayBuffer = y.buffer;
const blob = new Blob([y]);
const rms: RmsNormOptions = { weight: maybe, eps: undefined };
rmsNorm(x, [2, 4], rms);
const layout: Layout = 'NCHW';
const bn: BatchNormOptions = {
  layout, runningMean: new Float32Array(4), runningVar: new Float32Array(4).fill(1), training: undefined,
  momentum: 0.1, unbiasedRunningVar: true,
};
batchNorm(x, [2, 4], bn);
const ch: ChannelNormOptions = { layout: undefined, weight: maybe, bias: maybe };
instanceNorm(x, [1, 4, 2], ch);
groupNorm(x, [1, 4, 2], 2, ch);
const ada: AdaINOptions = { eps: 1e-5 };
adaIN(x, [1, 4, 2], x, [1, 4, 2], ada);
const t: Tensor = tensor(8);
const arg: TensorLike = t;
layerNorm(arg, [2, 4], { out: t });
t.free();
const stats: { memoryBytes: number; allocatedBytes: number } = memoryStats();
try {
  layerNorm(x, [3, 3]);
} catch (e) {
  if (e instanceof NormkitError) {
    const code: NormkitErrorCode = e.code;
    console.log(code, e.message);
  }
}
// @ts-expect-error: not a layout
instanceNorm(x, [1, 4, 2], { layout: 'nchw' });
// @ts-expect-error: rmsNorm has no bias
rmsNorm(x, [2, 4], { bias: x });
// @ts-expect-error: a Float64Array is not a tensor argument
layerNorm(new Float64Array(8), [2, 4]);
// Half precision: the output has x's type, or out's.
const half: Tensor<Dtype> = tensor(8, { dtype: 'float16' });
const bits: Uint16Array = tensor(8, { dtype: 'bfloat16' }).array;
const y16: Uint16Array = layerNorm(bits, [2, 4], { dtype: 'bfloat16' });
const y32: Float32Array = layerNorm(half, [2, 4], { out: new Float32Array(8) });
const dtype: HalfDtype = 'float16';
// @ts-expect-error: not a half dtype
layerNorm(bits, [2, 4], { dtype: 'float64' });
console.log(y.length, stats.memoryBytes, buffer.byteLength, blob.size, y16.length, y32.length, dtype);
`;

  function typecheck(name: string, compilerOptions: Record<string, unknown>): void {
    writeFileSync(join(project, 'consumer.ts'), CONSUMER);
    const config = {
      compilerOptions: { strict: true, noEmit: true, skipLibCheck: false, target: 'ES2022', types: [], ...compilerOptions },
      files: ['consumer.ts'],
    };
    writeFileSync(join(project, `tsconfig.${name}.json`), JSON.stringify(config, null, 2));
    run(process.execPath, [tsc, '-p', `tsconfig.${name}.json`], project, SLOW);
  }

  for (const exact of [false, true]) {
    const flag = { exactOptionalPropertyTypes: exact };
    const label = exact ? 'with exactOptionalPropertyTypes' : 'without exactOptionalPropertyTypes';
    it(`tsc --strict: moduleResolution bundler, ${label}`, () => {
      typecheck(`bundler-${exact}`, { module: 'ESNext', moduleResolution: 'bundler', lib: ['ES2022', 'DOM'], ...flag });
    }, SLOW);
    it(`tsc --strict: moduleResolution node16, ${label}`, () => {
      typecheck(`node16-${exact}`, { module: 'Node16', moduleResolution: 'node16', lib: ['ES2022', 'DOM'], ...flag });
    }, SLOW);
  }

  // A Node project without the DOM library (@types/node does not declare WebAssembly): the declarations
  // must not need it.
  it('tsc --strict: node16 with @types/node and without the DOM library', () => {
    typecheck('node16-nodom', {
      module: 'Node16',
      moduleResolution: 'node16',
      lib: ['ES2022'],
      types: ['node'],
      typeRoots: [join(repo, 'node_modules/@types')],
    });
  }, SLOW);
});
