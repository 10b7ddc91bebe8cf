/**
 * Setup file of the protocol and e2e projects (vite.config.ts): when a test
 * fails, the last log lines of the test gateways running in this process go
 * to the run's summary (testkit's `reportFailure`).
 */
import { beforeEach, onTestFailed } from 'vitest';
import { reportFailure } from '@parley/testkit';
import { liveLogRings } from './log-ring.js';

beforeEach(() => {
  onTestFailed(({ task }) => {
    const rings = liveLogRings();
    if (rings.length === 0) return;
    reportFailure(
      `${task.name}: the test gateways' last log lines`,
      rings.map((r) => r.describe()),
    );
  });
});
