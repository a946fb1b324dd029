// Every ```js example in the README and in docs/*.md runs as written, importing the built package by its
// name (```cjs examples run as CommonJS, with require()).
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync, writeFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;

/** Docs whose examples are fragments of a larger setup, not programs; what runs them instead. */
const NOT_RUN: Record<string, string> = {
  'docs/browser.md': 'bundler and page fragments; test/e2e builds and opens the real pages',
};

const files = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

interface Example {
  file: string;
  index: number;
  kind: 'js' | 'cjs';
  code: string;
}

const examples: Example[] = files
  .filter((file) => !(file in NOT_RUN))
  .flatMap((file) =>
    [...readFileSync(join(root, file), 'utf8').matchAll(/```(js|cjs)\n([\s\S]*?)```/g)].map((m, index) => ({
      file,
      index: index + 1,
      kind: m[1] as 'js' | 'cjs',
      code: m[2],
    })),
  );

describe('README and docs examples', () => {
  it('the README has a short example that runs, and is under 250 lines', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    expect(readme.split('\n').length).toBeLessThan(250);
    expect(examples.some((e) => e.file === 'README.md')).toBe(true);
  });

  it('has an example per op', () => {
    for (const op of ['layerNorm', 'rmsNorm', 'batchNorm', 'instanceNorm', 'groupNorm', 'adaIN', 'tensor']) {
      expect(examples.some((e) => e.code.includes(`${op}(`)), op).toBe(true);
    }
  });

  it('has a CommonJS example', () => {
    expect(examples.some((e) => e.kind === 'cjs' && e.code.includes("require('normkit')"))).toBe(true);
  });

  // Written inside the repo (a git-ignored folder outside node_modules) so that `import 'normkit'`
  // resolves to this package through its "exports", as a user's import would.
  mkdirSync(join(root, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(root, 'test-results', 'readme-'));
  for (const e of examples) {
    it(`${e.file} example ${e.index} runs`, () => {
      const file = join(dir, `${e.file.replace(/[/.]/g, '-')}-${e.index}.${e.kind === 'cjs' ? 'cjs' : 'mjs'}`);
      writeFileSync(file, e.code);
      execFileSync(process.execPath, [file], { stdio: 'pipe', timeout: 30_000 });
    });
  }
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
