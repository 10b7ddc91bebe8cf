/**
 * The cases every webhook outbox passes (the contract of `outbox.ts`): run on
 * SQLite by `outbox.test.ts` and on a real PostgreSQL by
 * `postgres/outbox.postgres.test.ts`, where the two deliverers are two
 * gateways' outboxes (two pools) on one database. Each lane is sent in the
 * order its entries were added, and is held by one deliverer at a time.
 */
import { describe, expect, it } from 'vitest';
import type { NewOutboxEntry, OutboxEntry, OutboxLane, WebhookOutbox } from './outbox.js';

export interface OutboxPair {
  /** A deliverer. */
  readonly a: WebhookOutbox;
  /** Another on the same outbox: another gateway's on PostgreSQL; the same object on SQLite (one gateway per file). */
  readonly b: WebhookOutbox;
}

const acme: OutboxLane = { tenant: 'acme', url: 'https://acme.test/hooks' };
const globex: OutboxLane = { tenant: 'globex', url: 'https://globex.test/hooks' };

const entry = (lane: OutboxLane, n: number): NewOutboxEntry => ({
  ...lane,
  delivery: `${lane.tenant}-${n}`,
  body: JSON.stringify({ n }),
  at: 1000 + n,
});

/** Resolves `release()` from outside: a send that lasts until the test says. */
function gate(): { readonly wait: Promise<void>; release(): void } {
  let release = () => undefined as void;
  const wait = new Promise<void>((resolve) => (release = resolve));
  return { wait, release };
}

const NOW = 10_000;
const sent = () => Promise.resolve({ sent: true } as const);

export function webhookOutboxContract(kind: string, make: () => Promise<OutboxPair>): void {
  describe(`the ${kind} webhook outbox`, () => {
    it('sends each lane in the order its entries were added, lanes apart', async () => {
      const { a } = await make();
      for (let n = 1; n <= 3; n++) {
        await a.add(entry(acme, n));
        await a.add(entry(globex, n));
      }
      expect(await a.pending()).toBe(6);
      expect((await a.lanes(NOW)).map((l) => l.tenant).sort()).toEqual(['acme', 'globex']);
      const heads: OutboxEntry[] = [];
      const take = async (head: OutboxEntry) => (heads.push(head), { sent: true } as const);
      for (let n = 0; n < 3; n++) expect(await a.turn(acme, NOW, take)).toEqual({ kind: 'sent' });
      expect(await a.turn(acme, NOW, take)).toEqual({ kind: 'empty' });
      expect(heads.map((h) => h.delivery)).toEqual(['acme-1', 'acme-2', 'acme-3']);
      expect(heads[0]).toMatchObject({ ...acme, body: '{"n":1}', attempts: 0, nextAt: 1001 });
      expect(await a.pending()).toBe(3);
      expect(await a.lanes(NOW)).toEqual([globex]);
    });

    it('keeps a failed head first, retried when due with its delivery id', async () => {
      const { a } = await make();
      await a.add(entry(acme, 1));
      await a.add(entry(acme, 2));
      const fail = () => Promise.resolve({ sent: false, error: 'HTTP 503', retryAt: 12_000 });
      expect(await a.turn(acme, NOW, fail)).toEqual({ kind: 'sent' });
      expect(await a.turn(acme, NOW, sent)).toEqual({ kind: 'wait', at: 12_000 });
      // Left as it was (a gateway stopping mid-send): neither sent nor counted.
      expect(await a.turn(acme, 12_000, () => Promise.resolve(undefined))).toEqual({
        kind: 'sent',
      });
      const heads: OutboxEntry[] = [];
      await a.turn(acme, 12_000, async (head) => (heads.push(head), { sent: true }));
      expect(heads).toMatchObject([{ delivery: 'acme-1', attempts: 1, nextAt: 12_000 }]);
      expect(await a.pending()).toBe(1);
    });

    it('lets one deliverer hold a lane at a time; the other lanes stay free', async () => {
      const { a, b } = await make();
      for (let n = 1; n <= 2; n++) await a.add(entry(acme, n));
      await b.add(entry(globex, 1));
      const entered = gate();
      const held = gate();
      const first = a.turn(acme, NOW, async () => {
        entered.release();
        await held.wait;
        return { sent: true };
      });
      await entered.wait;
      // While a sends acme's head, b gets `busy` there (not its next entry), and globex is free.
      expect(await b.turn(acme, NOW, sent)).toEqual({ kind: 'busy' });
      expect(await b.turn(globex, NOW, sent)).toEqual({ kind: 'sent' });
      held.release();
      expect(await first).toEqual({ kind: 'sent' });
      const heads: string[] = [];
      await b.turn(acme, NOW, async (head) => (heads.push(head.delivery), { sent: true }));
      expect(heads).toEqual(['acme-2']);
    });

    it('sends each entry once, in order, with deliverers racing on one lane', async () => {
      const { a, b } = await make();
      for (let n = 1; n <= 12; n++) await (n % 2 ? a : b).add(entry(acme, n));
      const order: string[] = [];
      let inFlight = 0;
      let most = 0;
      const send = async (head: OutboxEntry) => {
        most = Math.max(most, (inFlight += 1));
        await new Promise((resolve) => setImmediate(resolve));
        order.push(head.delivery);
        inFlight -= 1;
        return { sent: true } as const;
      };
      // Four deliverers, two per outbox, each taking turns until the lane is empty.
      const drain = async (outbox: WebhookOutbox) => {
        for (;;) {
          const turn = await outbox.turn(acme, NOW, send);
          if (turn.kind === 'empty') return;
          if (turn.kind === 'busy') await new Promise((resolve) => setImmediate(resolve));
        }
      };
      await Promise.all([drain(a), drain(b), drain(a), drain(b)]);
      expect(order).toEqual(Array.from({ length: 12 }, (_, i) => `acme-${i + 1}`));
      expect(most).toBe(1);
      expect(await a.pending()).toBe(0);
    });
  });
}
