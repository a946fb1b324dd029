// Installing normkit from a git URL, as the README shows: npm clones the repository at the current commit,
// installs its devDependencies there, runs `prepare` (which builds dist/ with asc and tsc) and installs the
// result. A git+file:// URL of this repository; npm prefers its cache and fetches from the registry only
// what the cache lacks (the clone's devDependencies, which npm ci's tarballs do not describe). Slow: a
// minute or more.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CJS_EXAMPLE, ESM_EXAMPLE, EXPECTED, repo, run, scratchProject } from './support/scratch.js';

const SLOW = 900_000;

let project: string;
let commit: string;

beforeAll(() => {
  commit = run('git', ['rev-parse', 'HEAD'], repo).stdout.trim();
  project = scratchProject('normkit-git-');
  run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', `git+file://${repo}#${commit}`], project, SLOW);
}, SLOW);

afterAll(() => {
  if (project) rmSync(project, { recursive: true, force: true });
});

describe('npm install git+file://<repository>#<commit>', () => {
  it('records the git dependency and builds dist/ through prepare (dist/ is not in git)', () => {
    const pkg = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    expect(pkg.dependencies.normkit).toContain(commit);
    const installed = join(project, 'node_modules/normkit');
    for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/generated/wasm.js', 'LICENSE', 'README.md']) {
      expect(existsSync(join(installed, f)), f).toBe(true);
    }
    // As packed: no sources or reference came along.
    for (const f of ['src', 'assembly', 'test', 'bench', 'dist/reference.js']) expect(existsSync(join(installed, f)), f).toBe(false);
  });

  it('an ES module and a CommonJS script use it', () => {
    writeFileSync(join(project, 'esm.mjs'), ESM_EXAMPLE);
    expect(run(process.execPath, ['esm.mjs'], project).stdout.trim()).toBe(EXPECTED);
    writeFileSync(join(project, 'cjs.cjs'), CJS_EXAMPLE);
    expect(run(process.execPath, ['cjs.cjs'], project).stdout.trim()).toBe(EXPECTED);
  });
});
