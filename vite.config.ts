/**
 * One Vite config for the repository: it builds the widget (`pnpm --filter
 * @parley/widget build`) and defines the Vitest projects the test command runs.
 *
 * Test projects, by file name:
 * - unit:      `*.test.ts` beside the code (no network peers, no browser);
 * - protocol:  `*.sipp.test.ts`, `*.baresip.test.ts`, `*.coturn.test.ts`,
 *              `*.kamailio.test.ts`, `*.postgres.test.ts`, `*.redis.test.ts`
 *              against real SIP peers, a real TURN server, Kamailio,
 *              PostgreSQL and Redis;
 * - e2e:       `e2e/**\/*.e2e.test.ts`, Debian's Chromium via playwright-core.
 */
import { fileURLToPath } from 'node:url';
import type { BuildOptions } from 'vite';
import { defineConfig } from 'vitest/config';

const widget = (path: string): string =>
  fileURLToPath(new URL(`./widget/${path}`, import.meta.url));

/**
 * The agent desk, `desk.js` (`PARLEY_BUILD=desk`, the second step of the
 * widget's build script): one file with Lit and sip.js, written beside
 * parley.js. A second build rather than a second entry: built together, the
 * two would share Lit through a chunk parley.js then loads on first load.
 */
const deskBuild: BuildOptions = {
  lib: { entry: widget('src/desk/index.ts'), formats: ['es'], fileName: () => 'desk.js' },
  emptyOutDir: false,
  rolldownOptions: { output: { minify: true } },
};
/**
 * The resident phone of gated facilities, `resident.js` (`PARLEY_BUILD=resident`,
 * the third step): one file with Lit and sip.js like the desk, for a tablet.
 */
const residentBuild: BuildOptions = {
  lib: { entry: widget('src/resident/index.ts'), formats: ['es'], fileName: () => 'resident.js' },
  emptyOutDir: false,
  rolldownOptions: { output: { minify: true } },
};
const separate: Record<string, BuildOptions> = { desk: deskBuild, resident: residentBuild };
const building = separate[process.env['PARLEY_BUILD'] ?? ''];

const peerTests = [
  '**/*.sipp.test.ts',
  '**/*.baresip.test.ts',
  '**/*.coturn.test.ts',
  '**/*.kamailio.test.ts',
  '**/*.postgres.test.ts',
  '**/*.redis.test.ts',
  '**/*.e2e.test.ts',
];

export default defineConfig({
  // The widget: `parley.js` (the element, loaded by the company's page) and
  // beside it the call stack chunk (sip.js + CallClient), imported on first use.
  // With PARLEY_BUILD=desk or resident, `desk.js` or `resident.js` instead (above).
  build: {
    lib: { entry: widget('src/index.ts'), formats: ['es'], fileName: () => 'parley.js' },
    outDir: widget('dist'),
    emptyOutDir: true,
    sourcemap: true,
    target: 'es2022',
    rolldownOptions: {
      // Lets modules both chunks use (error codes, call states) stay in parley.js,
      // which the lazy chunk then imports, instead of a third file on first load.
      preserveEntrySignatures: 'allow-extension',
      // Vite keeps whitespace in ES library builds (for consumers' bundlers);
      // parley.js is loaded by pages as it is, so minify it fully.
      output: { chunkFileNames: 'parley-[name]-[hash].js', minify: true },
    },
    ...(building ?? {}),
  },
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
          include: [
            '{gateway,testkit}/**/*.sipp.test.ts',
            '{gateway,testkit}/**/*.baresip.test.ts',
            '{gateway,testkit}/**/*.coturn.test.ts',
            '{gateway,testkit}/**/*.kamailio.test.ts',
            '{gateway,testkit}/**/*.postgres.test.ts',
            '{gateway,testkit}/**/*.redis.test.ts',
          ],
          exclude: ['**/node_modules/**'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
          fileParallelism: false,
          // A failing test's report: the test gateways' last log lines.
          setupFiles: ['gateway/test/report-on-failure.ts'],
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
          setupFiles: ['gateway/test/report-on-failure.ts'],
        },
      },
    ],
  },
});
