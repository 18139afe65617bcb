import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// The SDK warns in every process that its releases after January 2027 need Node 22; the lockfile pins the SDK.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

// Tests import the packages by name; point the names at the sources so `pnpm test` needs no build first.
const alias = [
  { find: /^@kinesis-kit\/core$/, replacement: here('./packages/core/src/index.ts') },
  { find: /^@kinesis-kit\/local-stack$/, replacement: here('./packages/local-stack/src/index.ts') },
  { find: /^@kinesis-kit\/producer$/, replacement: here('./packages/producer/src/index.ts') },
  { find: /^@kinesis-kit\/consumer$/, replacement: here('./packages/consumer/src/index.ts') },
  { find: /^@kinesis-kit\/cli$/, replacement: here('./packages/cli/src/index.ts') },
];

export default defineConfig({
  resolve: { alias },
  test: {
    reporters: ['default', here('./.ci/summary-reporter.ts')],
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['packages/*/src/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          // Deterministic simulations on simulated time: no emulators, so no local stack to start.
          name: 'simulation',
          include: ['packages/*/test/fleet-sim/**/*.test.ts'],
          // Simulated time, but real CPU: a 1,000-lease scenario takes seconds, more on a loaded machine.
          testTimeout: 120_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['packages/*/test/**/*.test.ts', 'examples/test/**/*.test.ts'],
          exclude: ['packages/*/test/fleet-sim/**', '**/node_modules/**'],
          // One local stack (kinesis-mock, kinesalite, dynalite) for the whole run; tests use fresh stream names.
          globalSetup: [here('./packages/local-stack/src/vitest-global-setup.ts')],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
    ],
  },
});
