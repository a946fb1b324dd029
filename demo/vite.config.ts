import { defineConfig } from 'vite';
import { fileURLToPath } from 'node:url';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

// Cross-origin isolation (COOP + COEP) gives the page precise performance.now() timers for the live
// benchmark; without it browsers coarsen timers (to ~100 µs in Chromium) against timing attacks.
const isolation = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
};

export default defineConfig({
  root: here('.'),
  base: './',
  resolve: {
    // The demo uses the package built from this repo (`npm run build` makes dist/).
    alias: [{ find: /^normkit$/, replacement: here('../dist/index.js') }],
  },
  server: { headers: isolation, fs: { allow: [here('..')] } },
  preview: { headers: isolation },
  build: { outDir: here('dist'), emptyOutDir: true, target: 'es2022' },
  // The live benchmark's Web Worker imports normkit and tinybench: a module worker.
  worker: { format: 'es' },
});
