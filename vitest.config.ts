import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each test file's temporary files live in a directory of its own, removed after it (no leftovers in /tmp).
    setupFiles: ['test/support/temp-per-file.ts'],
  },
});
