/**
 * The cases every voicemail store passes (the contract of `store.ts`): run
 * on SQLite by `store.test.ts`, and on a real PostgreSQL by
 * `postgres/stores.postgres.test.ts`, where a second gateway's store on the
 * same database also shows what stays each gateway's own (its interrupted
 * rows, its WAVs to delete).
 */
import { describe, expect, it } from 'vitest';
import type { NewVoicemail, VoicemailStore } from './store.js';

export interface StorePair {
  /** Gateway `gw-a`'s store. */
  readonly store: VoicemailStore;
  /** Gateway `gw-b`'s store on the same database (PostgreSQL only). */
  readonly other?: VoicemailStore | undefined;
}

export const base: NewVoicemail = {
  id: 'vm-1',
  callId: 'call-1',
  tenant: 'acme',
  queue: 'sales',
  agent: null,
  cause: 'no-answer',
  sessionNumber: '+15550101',
  sessionId: 'sess-1',
  origin: 'https://shop.acme.test',
  page: '/pricing',
  publicClaims: { iss: 'acme', sub: 'sess-1' },
  privateClaims: { customerId: 'c-9' },
  recordingPath: '/tmp/vm-1.wav',
  createdAt: 1000,
};

const left = (endedAt: number) =>
  ({ status: 'left', endedAt, durationMs: 4000, endReason: 'silence' }) as const;

export function voicemailStoreContract(kind: string, make: () => Promise<StorePair>): void {
  describe(`the ${kind} voicemail store`, () => {
    it('stores a message, its utterances in order, and its end once', async () => {
      const { store } = await make();
      await store.insert(base);
      await store.addUtterance('vm-1', {
        utterance: 0,
        text: 'hello there',
        startMs: 100,
        endMs: 900,
      });
      await store.addUtterance('vm-1', {
        utterance: 1,
        text: 'call me back',
        startMs: 1500,
        endMs: 2500,
      });
      expect(await store.finish('vm-1', left(5000))).toBe(true);
      // A second end (the caller's BYE racing the silence) changes nothing, and says so.
      expect(
        await store.finish('vm-1', {
          status: 'failed',
          endedAt: 6000,
          durationMs: 1,
          endReason: 'error',
        }),
      ).toBe(false);
      const got = await store.get('vm-1');
      expect(got).toMatchObject({
        status: 'left',
        endedAt: 5000,
        durationMs: 4000,
        endReason: 'silence',
        transcript: 'hello there call me back',
        publicClaims: { iss: 'acme', sub: 'sess-1' },
        privateClaims: { customerId: 'c-9' },
        page: '/pricing',
        gateway: 'gw-a',
        heardAt: null,
      });
      expect(got?.utterances).toEqual([
        { utterance: 0, text: 'hello there', startMs: 100, endMs: 900 },
        { utterance: 1, text: 'call me back', startMs: 1500, endMs: 2500 },
      ]);
    });

    it('keeps every final written at once, in the order asked', async () => {
      const { store } = await make();
      await store.insert(base);
      const words = Array.from({ length: 12 }, (_, i) => `w${i}`);
      await Promise.all(
        words.map((text, i) =>
          store.addUtterance('vm-1', { utterance: i, text, startMs: i, endMs: i + 1 }),
        ),
      );
      const got = await store.get('vm-1');
      expect(got?.utterances.map((u) => u.text)).toEqual(words);
      expect(got?.transcript).toBe(words.join(' '));
    });

    it('lists by tenant, queue, agent and heard, newest first', async () => {
      const { store } = await make();
      await store.insert(base);
      await store.insert({ ...base, id: 'vm-2', createdAt: 2000 });
      await store.insert({ ...base, id: 'vm-3', tenant: 'globex', createdAt: 3000 });
      await store.insert({ ...base, id: 'vm-4', queue: 'support', createdAt: 4000 });
      await store.insert({ ...base, id: 'vm-5', queue: '', agent: 'ada', createdAt: 5000 });
      const ids = async (filter: Parameters<VoicemailStore['list']>[0]) =>
        (await store.list(filter)).map((r) => r.id);
      expect(await ids({ tenant: 'acme', queue: 'sales', limit: 10 })).toEqual(['vm-2', 'vm-1']);
      expect(await ids({ limit: 2 })).toEqual(['vm-5', 'vm-4']);
      expect(await ids({ tenant: 'acme', agent: 'ada', limit: 10 })).toEqual(['vm-5']);
      await store.finish('vm-2', left(6000));
      expect(await store.markHeard('vm-2', 7000, 'ada')).toBe('marked');
      expect(await ids({ tenant: 'acme', queue: 'sales', heard: true, limit: 10 })).toEqual([
        'vm-2',
      ]);
      expect(await ids({ tenant: 'acme', queue: 'sales', heard: false, limit: 10 })).toEqual([
        'vm-1',
      ]);
    });

    it('marks heard once, never while recording; says when the row is gone', async () => {
      const { store } = await make();
      await store.insert(base);
      expect(await store.markHeard('vm-1', 2000, 'ada')).toBe('recording');
      expect((await store.get('vm-1'))?.heardAt).toBeNull();
      await store.finish('vm-1', left(3000));
      expect(await store.markHeard('vm-1', 4000, 'ada')).toBe('marked');
      expect(await store.markHeard('vm-1', 5000, 'bob')).toBe('marked');
      expect(await store.get('vm-1')).toMatchObject({ heardAt: 4000, heardBy: 'ada' });
      expect(await store.markHeard('nope', 5000, 'bob')).toBe('missing');
      expect(await store.delete('vm-1')).toBe(true);
      expect(await store.delete('vm-1')).toBe(false);
      expect(await store.markHeard('vm-1', 6000, 'bob')).toBe('missing');
    });

    it('hides a row marked for deletion; its gateway gets it to delete file and row', async () => {
      const { store, other } = await make();
      await store.insert(base);
      // Never while it is recorded: the recorder writes its file.
      expect(await (other ?? store).requestDelete('vm-1', 2000)).toBe(false);
      await store.finish('vm-1', left(3000));
      expect(await (other ?? store).requestDelete('vm-1', 4000)).toBe(true);
      expect(await (other ?? store).requestDelete('vm-1', 4000)).toBe(false);
      expect(await store.get('vm-1')).toBeUndefined();
      expect(await store.list({ limit: 10 })).toEqual([]);
      expect(await store.markHeard('vm-1', 5000, 'ada')).toBe('missing');
      // Not past retention (before = 0), yet given: it was marked.
      expect((await store.expired(0, 10)).map((r) => r.id)).toEqual(['vm-1']);
      if (other) expect(await other.expired(0, 10)).toEqual([]);
      expect(await store.delete('vm-1')).toBe(true);
      expect(await store.expired(0, 10)).toEqual([]);
    });

    it('gives retention the ended rows past it, oldest first, never one being recorded', async () => {
      const { store } = await make();
      await store.insert({ ...base, id: 'old', createdAt: 100 });
      await store.insert({ ...base, id: 'older', createdAt: 50 });
      await store.insert({ ...base, id: 'live', createdAt: 10 });
      await store.insert({ ...base, id: 'new', createdAt: 5000 });
      for (const id of ['old', 'older', 'new']) await store.finish(id, left(6000));
      expect((await store.expired(1000, 10)).map((r) => r.id)).toEqual(['older', 'old']);
      expect((await store.expired(1000, 1)).map((r) => r.id)).toEqual(['older']);
    });

    it("gives retention a retired gateway's rows only when asked", async () => {
      const { store, other } = await make();
      await store.insert({ ...base, id: 'mine', createdAt: 100 });
      await store.finish('mine', left(200));
      if (!other) {
        // One gateway: every row is its own, there is no other to retire.
        expect(await store.otherGateways()).toEqual([]);
        return;
      }
      await other.insert({ ...base, id: 'theirs', createdAt: 50 });
      await other.insert({ ...base, id: 'theirs-live', createdAt: 60 });
      await other.finish('theirs', left(300));
      expect(await store.otherGateways()).toEqual(['gw-b']);
      expect((await store.expired(1000, 10)).map((r) => r.id)).toEqual(['mine']);
      // gw-b retired: its ended row is this gateway's to sweep; never one being recorded.
      expect((await store.expired(1000, 10, ['gw-b'])).map((r) => r.id)).toEqual([
        'theirs',
        'mine',
      ]);
    });

    it("gives the rows a gateway left recording: this gateway's, or another's by name", async () => {
      const { store, other } = await make();
      expect(await store.openOwners()).toEqual([]);
      await store.insert(base);
      await store.insert({ ...base, id: 'vm-2', createdAt: 2000 });
      await store.insert({ ...base, id: 'vm-ended', createdAt: 2500 });
      await store.finish('vm-ended', left(2600));
      if (other) await other.insert({ ...base, id: 'vm-b', createdAt: 3000 });
      expect((await store.open('gw-a')).map((r) => r.id)).toEqual(['vm-1', 'vm-2']);
      expect((await store.openOwners()).sort()).toEqual(other ? ['gw-a', 'gw-b'] : ['gw-a']);
      expect(await store.finish('vm-2', { ...left(9000), endReason: 'interrupted' })).toBe(true);
      expect((await store.open('gw-a')).map((r) => r.id)).toEqual(['vm-1']);
      if (!other) return;
      // gw-b's rows, read through gw-a's store (a survivor of gw-b): their WAV stays gw-b's.
      const lost = await store.open('gw-b');
      expect(lost.map((r) => [r.id, r.gateway])).toEqual([['vm-b', 'gw-b']]);
      expect(await store.finish('vm-b', { ...left(9500), endReason: 'gateway_lost' })).toBe(true);
      // A second survivor racing the first ends nothing.
      expect(await other.finish('vm-b', { ...left(9600), endReason: 'gateway_lost' })).toBe(false);
      expect(await store.get('vm-b')).toMatchObject({ status: 'left', endReason: 'gateway_lost' });
      expect(await store.openOwners()).toEqual(['gw-a']);
      // ... and its retention is gw-b's.
      expect((await store.expired(10_000, 10)).map((r) => r.id)).toEqual(['vm-2', 'vm-ended']);
      expect((await other.expired(10_000, 10)).map((r) => r.id)).toEqual(['vm-b']);
    });
  });
}
