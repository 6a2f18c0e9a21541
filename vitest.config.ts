import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts'],
    // Tests start real worker threads; on 2 cores, files run one at a time so that
    // one file's Ms do not starve another file's.
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 60_000,
    server: {
      deps: {
        // Load the built runtime as Node would (workers load it natively anyway).
        external: [/packages\/gort\/dist\//],
      },
    },
  },
});
