/**
 * Callbacks a stop left behind, on a real PostgreSQL behind the cutting
 * proxy (`runner-pg-world.ts`): the ends of interrupted ones (a gateway's own
 * at start, a lost one's on a survivor) whose write is cut, one of several
 * failing, and a survivor's take-over of a lost gateway's scheduled ones
 * whose answer is lost. The SIP side is a recording transaction layer: the
 * BYEs are the requests handed to it (the real ones: `lost-gateway.postgres.test.ts`).
 */
import { until } from '@parley/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../observability/index.js';
import type { SipStack } from '../sip/index.js';
import type { StoredDialog } from '../storage/index.js';
import type { PgProxy } from '../storage/postgres/test-pg-proxy.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import { lostCallbacks } from './lost.js';
import { PgCallbackStore } from './pg-store.js';
import { ADOPT, SAVE_IF, pgRunnerWorld } from './runner-pg-world.js';
import { callbackRecord } from './store-contract.js';

const pg = useTestPostgres('cblost');
const proxies: PgProxy[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

const dialog = (callId: string): StoredDialog => ({
  leg: 'caller',
  callId,
  localTag: 'l1',
  remoteTag: 'r1',
  local: '<sip:gw@127.0.0.1>',
  remote: '<sip:+14155550123@127.0.0.2>',
  remoteTarget: 'sip:+14155550123@127.0.0.2:5060',
  routeSet: [],
  localSeq: 1,
  localContact: '<sip:gw@127.0.0.1:5060>',
  transport: null,
});

/** A survivor `gw-a` (through the proxy, its scheduler running what it holds) of `gw-lost`. */
async function survivor() {
  const w = await pgRunnerWorld(pg, proxies, { freeAgents: () => 0, retryDelayMs: 1000 });
  const byes: string[] = [];
  const stack = {
    transactions: {
      request: (bye: { headers: { get(name: string): string | undefined } }) => {
        byes.push(bye.headers.get('call-id') ?? '');
        return { on: () => undefined };
      },
    },
  } as unknown as SipStack;
  const lost = lostCallbacks({
    rows: w.store.shared,
    service: w.service,
    stack,
    logger: createLogger('silent'),
  });
  return { ...w, lost, byes, lostRows: new PgCallbackStore(w.direct, 'gw-lost') };
}

describe('a lost gateway’s callback closed by a survivor (PostgreSQL)', () => {
  it.each(['lose', 'refuse'] as const)(
    'its end’s write cut (%s): the legs to hang up are answered once the end is written',
    async (kind) => {
      const { proxy, rows, service } = await survivor();
      await rows.insert(
        callbackRecord('cb-1', { state: 'prompting', dialogs: [dialog('c1')] }),
        'h',
      );
      const lost = await rows.inProgress();
      proxy.cut(SAVE_IF, kind);
      const closing = await service.closeInterrupted(lost);
      if (kind === 'refuse') {
        // Never written: the close tells, and the next sweep finds it (and its legs) again.
        expect(closing).toMatchObject({ interrupted: [], error: expect.any(Error) });
        expect(await rows.get('cb-1')).toMatchObject({ state: 'prompting' });
        expect(await service.closeInterrupted(await rows.inProgress())).toEqual({
          interrupted: [{ id: 'cb-1', dialogs: [dialog('c1')] }],
          ringing: [],
        });
      } else {
        // Written, its answer lost: the row says this end landed, the legs are answered now.
        expect(closing).toEqual({
          interrupted: [{ id: 'cb-1', dialogs: [dialog('c1')] }],
          ringing: [],
        });
      }
      expect(await rows.get('cb-1')).toMatchObject({ state: 'ended', outcome: 'interrupted' });
      expect(await rows.inProgress()).toEqual([]);
    },
  );

  it('one of two ends failing: the other’s legs get their BYE, the failed one is closed at the next sweep', async () => {
    const { proxy, rows, lostRows, lost, byes } = await survivor();
    for (const id of ['cb-1', 'cb-2'])
      await lostRows.insert(
        callbackRecord(id, { state: 'prompting', dialogs: [dialog(`c-${id}`)] }),
        id,
      );
    // The first end is written (held until both rules are armed), the second never reaches the server.
    const first = proxy.hold(SAVE_IF);
    proxy.cut(SAVE_IF, 'refuse');
    const sweep = lost.recoverLost('gw-lost');
    await first.held;
    first.release();
    await expect(sweep).rejects.toThrow(/Connection terminated/);
    // Before: the whole close rejected and the ended one's legs were never answered.
    expect(byes).toHaveLength(1);
    const [closed] = byes;
    const left = closed === 'c-cb-1' ? 'cb-2' : 'cb-1';
    expect((await rows.get(left))?.state).toBe('prompting');
    expect(await lost.recoverLost('gw-lost')).toBe(1);
    expect(byes).toEqual([closed, `c-${left}`]);
    for (const id of ['cb-1', 'cb-2'])
      expect(await rows.get(id)).toMatchObject({ state: 'ended', outcome: 'interrupted' });
  });
});

describe('a gateway’s own interrupted callbacks at start (PostgreSQL)', () => {
  it('one of two ends failing: the start answers the other’s legs with the error, schedules nothing, and the next start closes the rest', async () => {
    const { proxy, rows, service, scheduler } = await survivor();
    for (const id of ['cb-1', 'cb-2'])
      await rows.insert(
        callbackRecord(id, { state: 'prompting', dialogs: [dialog(`c-${id}`)] }),
        id,
      );
    await rows.insert(callbackRecord('cb-3', { dueAt: Date.now() + 3_600_000 }), 'cb-3');
    const first = proxy.hold(SAVE_IF);
    proxy.cut(SAVE_IF, 'refuse');
    const starting = service.start();
    await first.held;
    first.release();
    const closed = await starting;
    // `module.ts` sends their BYEs, then fails the start with the error.
    expect(closed.interrupted).toHaveLength(1);
    expect(closed).toHaveProperty('error', expect.any(Error));
    expect(scheduler.has('cb-3')).toBe(false);
    const left = closed.interrupted[0]?.id === 'cb-1' ? 'cb-2' : 'cb-1';
    expect(await service.start()).toEqual({
      interrupted: [{ id: left, dialogs: [dialog(`c-${left}`)] }],
      ringing: [],
    });
    expect(scheduler.has('cb-3')).toBe(true);
    scheduler.close();
  });
});

describe('a lost gateway’s scheduled callback taken over (PostgreSQL)', () => {
  it.each([
    ['read again at once', false],
    ['read again at the next sweep, the first read failing too', true],
  ] as const)(
    'the take-over’s answer lost: %s, scheduled and run here, once',
    async (_, rereadFails) => {
      const { proxy, direct, rows, lostRows, lost, scheduler, dials } = await survivor();
      await lostRows.insert(callbackRecord('cb-1', { dueAt: Date.now() }), 'h');
      proxy.cut(ADOPT, 'lose');
      if (rereadFails) proxy.cut('ORDER BY due_at', 'refuse');
      await expect(lost.recoverLost('gw-lost')).rejects.toThrow(/Connection terminated/);
      // The row is this gateway's now: no sweep of gw-lost would find it again.
      const owner = await direct.query<{ owner: string }>('SELECT owner FROM cb_callbacks');
      expect(owner.rows).toEqual([{ owner: 'gw-a' }]);
      if (rereadFails) {
        expect(scheduler.has('cb-1')).toBe(false);
        // The next sweep's look at the open rows reads this gateway's first.
        await lost.openOwners();
      }
      const ended = async () => {
        const row = await rows.get('cb-1');
        return row?.state === 'ended' ? row : undefined;
      };
      expect(await until(ended, 'the callback run', 5000)).toMatchObject({ outcome: 'failed' });
      expect(dials).toEqual(['acme']);
    },
  );
});
