import { Gauge } from 'prom-client';
import type { Metrics } from './metrics.js';

/** Gauges read at scrape time from the live objects (no bookkeeping on the hot path). */
export function registerLiveGauges(
  metrics: Metrics,
  read: {
    activeCalls: () => number;
    transactions: () => { server: number; client: number };
    dialogs: () => number;
    mediaRouters: () => number;
    numbersLeased: () => number;
    agentsRegistered: () => number;
  },
): void {
  const gauge = (name: string, help: string, collect: (g: Gauge) => void) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      collect() {
        collect(this);
      },
    });
  gauge('parley_calls_active', 'Calls in progress.', (g) => g.set(read.activeCalls()));
  new Gauge({
    name: 'parley_sip_transactions',
    help: 'SIP transactions alive, by side.',
    labelNames: ['side'],
    registers: [metrics.registry],
    collect() {
      const t = read.transactions();
      this.set({ side: 'server' }, t.server);
      this.set({ side: 'client' }, t.client);
    },
  });
  gauge('parley_sip_dialogs', 'SIP dialogs alive.', (g) => g.set(read.dialogs()));
  gauge('parley_media_routers', 'Media routers alive (one per call).', (g) =>
    g.set(read.mediaRouters()),
  );
  gauge('parley_session_numbers_leased', 'Caller-ID numbers held by web sessions.', (g) =>
    g.set(read.numbersLeased()),
  );
  gauge('parley_agents_registered', 'Agents with at least one registered contact.', (g) =>
    g.set(read.agentsRegistered()),
  );
}
