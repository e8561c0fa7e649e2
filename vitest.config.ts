import { fileURLToPath } from 'node:url';

import { defineConfig } from 'vitest/config';

// Examples and docs import 'genblocks' exactly as users do; in this repository those imports
// resolve to the sources (tsconfig `paths` does the same for tsc and tsx).
const src = (file: string) => fileURLToPath(new URL(`./src/${file}`, import.meta.url));

export default defineConfig({
  resolve: {
    alias: [
      { find: /^genblocks\/node$/, replacement: src('node.ts') },
      { find: /^genblocks\/register$/, replacement: src('register.ts') },
      { find: /^genblocks\/(\w+)$/, replacement: src('$1/index.ts') },
      { find: /^genblocks$/, replacement: src('index.ts') },
    ],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // tfjs keeps global state (backend, kernel registry, tensor tracking): one process per file.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // In CI also a JSON report, from which .ci/run prints a closing 'N passed, N failed' line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci/out/vitest.json' }]] : ['default'],
  },
});
