import { defineConfig } from 'vite';

// Nothing normkit-specific to configure: the wasm is embedded in the package, so there are no asset
// paths, fetches or MIME types to set up. `base: './'` lets the built app be served from any folder.
export default defineConfig({
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
});
