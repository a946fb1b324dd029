// Scratch projects for the packaging tests: a folder outside the repository (so nothing resolves through
// the repository's own node_modules), npm run with an environment cleaned of the outer `npm test`'s
// npm_* variables, and the consumer programs every install must run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../..');

/** The environment for a nested npm: no npm_* variables of the outer run, no install-time downloads. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^npm_/i.test(k)) env[k] = v;
  // onnxruntime-node's postinstall (a devDependency, installed by a git install's prepare) would fetch
  // CUDA libraries; npm >= 11.16 skips it through package.json's allowScripts, older npm through this.
  env.ONNXRUNTIME_NODE_INSTALL = 'skip';
  env.NO_UPDATE_NOTIFIER = '1';
  return env;
}

export interface Run {
  stdout: string;
  stderr: string;
}

/** Runs a command and returns what it printed; a non-zero exit throws, with both streams in the message. */
export function run(file: string, args: string[], cwd: string, timeout = 300_000): Run {
  const r = spawnSync(file, args, { cwd, env: cleanEnv(), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout });
  if (r.status !== 0) {
    const why = r.error ? String(r.error) : `exit ${r.status}${r.signal ? `, ${r.signal}` : ''}`;
    throw new Error(`${file} ${args.join(' ')} failed (${why}) in ${cwd}:\n${r.stdout}\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr };
}

/** A new empty project in the system's temp folder. */
export function scratchProject(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'consumer', version: '1.0.0', private: true, type: 'module' }, null, 2)}\n`);
  return dir;
}

/** What each consumer program prints: layerNorm of [1, 2, 3, 4], rounded. */
export const EXPECTED = '-1.3416 -0.4472 0.4472 1.3416';

export const ESM_EXAMPLE = `import { ready, layerNorm, groupNorm, tensor, NormkitError } from 'normkit';
await ready();
const y = layerNorm(new Float32Array([1, 2, 3, 4]), [1, 4]);
const t = tensor(new Float32Array(2 * 4 * 3).fill(1));
groupNorm(t, [2, 4, 3], 2, { out: t });
if (t.array.some((v) => v !== 0)) throw new Error('groupNorm of a constant tensor is not 0');
t.free();
try { layerNorm(new Float32Array(3), [2, 2]); throw new Error('no error'); } catch (e) { if (!(e instanceof NormkitError)) throw e; }
console.log(Array.from(y, (v) => v.toFixed(4)).join(' '));
`;

export const CJS_EXAMPLE = `const { ready, layerNorm, NormkitError } = require('normkit');
if (typeof NormkitError !== 'function') throw new Error('NormkitError missing');
ready().then(() => {
  const y = layerNorm(new Float32Array([1, 2, 3, 4]), [1, 4]);
  console.log(Array.from(y, (v) => v.toFixed(4)).join(' '));
});
`;
