/**
 * One Vite config for the repository: it builds the widget (`pnpm --filter
 * @parley/widget build`) and defines the Vitest projects the test command runs.
 *
 * Test projects, by file name:
 * - unit:      `*.test.ts` beside the code (no network peers, no browser);
 * - protocol:  `*.sipp.test.ts`, `*.baresip.test.ts` against real SIP peers;
 * - e2e:       `e2e/**\/*.e2e.test.ts`, Debian's Chromium via playwright-core.
 */
import { defineConfig } from 'vitest/config';

const peerTests = ['**/*.sipp.test.ts', '**/*.baresip.test.ts', '**/*.e2e.test.ts'];

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['{shared,gateway,widget,demo,testkit}/**/*.test.ts'],
          exclude: ['**/node_modules/**', ...peerTests],
          testTimeout: 20_000,
        },
      },
      {
        test: {
          name: 'protocol',
          include: ['{gateway,testkit}/**/*.sipp.test.ts', '{gateway,testkit}/**/*.baresip.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
        },
      },
      {
        test: {
          name: 'e2e',
          include: ['{e2e,testkit}/**/*.e2e.test.ts'],
          exclude: ['**/node_modules/**'],
          testTimeout: 90_000,
          hookTimeout: 90_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
