// Every ```js example in the README runs as written, importing the built package by its name.
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync, mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const root = new URL('..', import.meta.url).pathname;
const readme = readFileSync(join(root, 'README.md'), 'utf8');
const examples = [...readme.matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]);

describe('README examples', () => {
  it('has an example per op', () => {
    for (const op of ['layerNorm', 'rmsNorm', 'batchNorm', 'instanceNorm', 'groupNorm', 'adaIN', 'tensor']) {
      expect(examples.some((e) => e.includes(`${op}(`)), op).toBe(true);
    }
  });
  // Written inside the repo (a git-ignored folder outside node_modules) so that `import 'normkit'`
  // resolves to this package through its "exports", as a user's import would.
  mkdirSync(join(root, 'test-results'), { recursive: true });
  const dir = mkdtempSync(join(root, 'test-results', 'readme-'));
  examples.forEach((code, i) => {
    it(`example ${i + 1} runs`, () => {
      const file = join(dir, `example-${i + 1}.mjs`);
      writeFileSync(file, code);
      execFileSync(process.execPath, [file], { stdio: 'pipe', timeout: 30_000 });
    });
  });
  it('cleans up', () => rmSync(dir, { recursive: true, force: true }));
});
