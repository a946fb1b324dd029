// A build of src/ made with TypeScript's transpiler into a temporary directory, for tests that load normkit
// in another thread or process (worker_threads, child processes) and must test the current source.
import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

/** Transpiles src/**.ts to ESM JavaScript; returns the directory, its index.js URL and a way to remove it. */
export function transpileSource(): { dir: string; indexUrl: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'normkit-src-'));
  const walk = (d: string): string[] =>
    readdirSync(d).flatMap((name) => {
      const p = join(d, name);
      return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') && !p.endsWith('.d.ts') ? [p] : [];
    });
  for (const file of walk(srcDir)) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions: { module: ts.ModuleKind.ES2022, target: ts.ScriptTarget.ES2022, verbatimModuleSyntax: false },
      fileName: file,
    });
    const out = join(dir, relative(srcDir, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, outputText);
  }
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  return { dir, indexUrl: pathToFileURL(join(dir, 'index.js')).href, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
