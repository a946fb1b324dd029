import { defineConfig } from 'vitest/config';

// Test files named *.node.test.ts need Node APIs; every other *.test.ts must also run in a browser.
export default defineConfig({
  server: { fs: { allow: ['..'] } },
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
