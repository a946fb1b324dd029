/**
 * vitest browser commands: code that a browser test calls and that runs in the Node process.
 * `normkitNodeHashes` runs the op-hash cases on the built package (dist/index.js) in Node, so the
 * browser test can compare Chromium's output bits with Node's from the same run.
 */
import type { BrowserCommand } from 'vitest/node';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { computeOpHashes, type NormkitModule, type OpHash } from './op-hashes.js';

const normkitNodeHashes: BrowserCommand<[], { node: string; hashes: OpHash[] }> = async (ctx) => {
  const url = pathToFileURL(resolve(ctx.project.config.root, 'dist/index.js')).href;
  const nk = (await import(/* @vite-ignore */ url)) as NormkitModule;
  return { node: process.version, hashes: await computeOpHashes(nk) };
};

export const browserCommands = { normkitNodeHashes };

declare module 'vitest/browser' {
  interface BrowserCommands {
    normkitNodeHashes: () => Promise<{ node: string; hashes: OpHash[] }>;
  }
}
