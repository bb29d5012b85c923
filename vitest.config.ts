import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['tests/unit/**/*.test.ts'],
          environment: 'node',
          testTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['tests/e2e/**/*.test.ts'],
          environment: 'node',
          testTimeout: 240_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        test: {
          name: 'load',
          include: ['tests/load/**/*.test.ts'],
          environment: 'node',
          testTimeout: 7_200_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
      {
        test: {
          name: 'bench',
          include: ['bench/**/*.run.ts'],
          environment: 'node',
          testTimeout: 1_800_000,
          hookTimeout: 120_000,
          fileParallelism: false,
          globalSetup: ['tests/support/global-setup.ts'],
        },
      },
    ],
  },
});
