/**
 * The cases every flow event store passes (the contract of
 * `flow-event-store.ts`): run on SQLite by `flow-event-store.test.ts`, and on
 * a real PostgreSQL by `postgres/pg-flow-event-store.postgres.test.ts`, where
 * a second gateway's store on the same database reads what the first wrote.
 */
import type { FlowEvent } from '@parley/shared/protocol';
import { describe, expect, it } from 'vitest';
import type { FlowEventStore } from './flow-event-store.js';
import { FakeCall } from './testing/fake-call.js';
import { harness } from './testing/harness.js';

export interface FlowStorePair {
  /** The store events are written to (gateway A's). */
  readonly store: FlowEventStore;
  /** A store on the same database in another process's place (PostgreSQL: gateway B's pool). */
  readonly other?: FlowEventStore | undefined;
}

const at = (seq: number) => new Date(Date.UTC(2026, 0, 1, 12, 0, 0, seq)).toISOString();

/** A `verb.result` of a `say`: `seq` is also the verb's index, `plays` tells copies apart. */
export function sayResult(callId: string, seq: number, plays = 1): FlowEvent {
  return {
    type: 'verb.result',
    callId,
    tenant: 'acme',
    seq,
    at: at(seq),
    flow: 'main',
    index: seq,
    verb: 'say',
    result: { status: 'completed', plays },
    ms: 12,
  };
}

/** An event before it has its place in the call (`seq`, `at`). */
type Unplaced<E> = E extends unknown ? Omit<E, 'seq' | 'at'> : never;

/** One event of each type, in `seq` order, for `callId`. */
function oneOfEach(callId: string): FlowEvent[] {
  const base = { callId, tenant: 'acme', flow: 'main' };
  const verb = { ...base, index: 0, verb: 'record' as const };
  const events: Unplaced<FlowEvent>[] = [
    { ...base, type: 'flow.start', source: 'config' },
    { ...verb, type: 'verb.start', options: { beep: false } },
    { ...base, type: 'transcript.partial', utterance: 0, text: 'one' },
    { ...base, type: 'transcript.final', utterance: 0, text: 'one two', confidence: 0.9 },
    { ...base, type: 'transcript.error', error: { code: 'asr_failed', message: 'gone' } },
    { ...verb, type: 'verb.error', error: { code: 'recording_failed', message: 'disk' }, ms: 3 },
    { ...base, type: 'queue.position', queue: 'sales', position: 1, estimatedWaitSeconds: null },
    { ...base, type: 'queue.offered', queue: 'sales', agentId: 'agent1' },
    {
      ...base,
      type: 'source.error',
      source: 'webhook',
      reason: 'timeout',
      detail: 'no answer in 5 s',
      fallback: 'parley.unavailable',
    },
    { ...base, type: 'flow.end', reason: 'completed' },
  ];
  return events.map((e, i) => ({ ...e, seq: i + 1, at: at(i + 1) }) as FlowEvent);
}

export function flowEventStoreContract(kind: string, make: () => Promise<FlowStorePair>): void {
  describe(`the ${kind} flow event store`, () => {
    it('keeps what each verb of a run did, in order, without the live-only events', async () => {
      const { store } = await make();
      const h = harness({
        sinks: [store],
        flows: {
          main: [
            { verb: 'transcribe' },
            { verb: 'record', beep: false, finishOnKey: '#' },
            { verb: 'play', file: 'missing.wav' },
          ],
        },
      });
      const call = new FakeCall();
      call.once('recording', () => {
        const t = call.transcriptions[0]!;
        t.emit('partial', { utterance: 0, text: 'one' });
        t.emit('final', { utterance: 0, text: 'one two' });
        call.press('#');
      });
      await h.runner.run(call, 'main');
      const stored = await store.list(call.context.callId);
      expect(stored.map((e) => e.type)).toEqual([
        'flow.start',
        'verb.start',
        'verb.result',
        'verb.start',
        'transcript.final',
        'verb.result',
        'verb.start',
        'verb.error',
        'flow.end',
      ]);
      expect(h.log.of('transcript.partial')).toHaveLength(1);
      expect(stored).toEqual(h.log.events.filter((e) => e.type !== 'transcript.partial'));
      expect(stored.find((e) => e.type === 'verb.error')).toMatchObject({
        verb: 'play',
        error: { code: 'prompt_unavailable' },
      });
    });

    it('keeps only the stored kinds (STORED_FLOW_EVENTS), each whole', async () => {
      const { store } = await make();
      const all = oneOfEach('call-kinds');
      for (const event of all) store.event(event);
      expect(await store.list('call-kinds')).toEqual(
        all.filter((e) => e.type !== 'transcript.partial' && e.type !== 'queue.position'),
      );
    });

    it("keeps each call's order with many events handed over at once, several calls interleaved", async () => {
      const { store, other } = await make();
      const calls = ['call-a', 'call-b', 'call-c'];
      // The first of each call alone (its write under way), then the rest in one burst.
      for (const callId of calls) store.event(sayResult(callId, 1));
      await Promise.resolve();
      for (let seq = 2; seq <= 400; seq += 1)
        for (const callId of calls) store.event(sayResult(callId, seq));
      const expected = (callId: string) =>
        Array.from({ length: 400 }, (_, i) => sayResult(callId, i + 1));
      // Read back at once: the writer reads its own writes.
      for (const callId of calls) expect(await store.list(callId)).toEqual(expected(callId));
      // Another gateway reads the same, once they are written.
      await store.idle();
      if (other)
        for (const callId of calls) expect(await other.list(callId)).toEqual(expected(callId));
    });

    it('stores a repeated (callId, seq) once: the first one handed over', async () => {
      const { store, other } = await make();
      store.event(sayResult('call-dup', 1, 1));
      store.event(sayResult('call-dup', 1, 2)); // the same burst
      store.event(sayResult('call-dup', 2));
      await store.idle();
      store.event(sayResult('call-dup', 1, 3)); // later
      // Another gateway's store writing the same key: no error, no copy.
      other?.event(sayResult('call-dup', 2, 4));
      await other?.idle();
      expect(await store.list('call-dup')).toEqual([
        sayResult('call-dup', 1, 1),
        sayResult('call-dup', 2),
      ]);
    });

    it('lists nothing for a call it has no events of', async () => {
      const { store, other } = await make();
      store.event(sayResult('call-known', 1));
      expect(await store.list('call-unknown')).toEqual([]);
      expect(await other?.list('call-unknown')).toEqual(other ? [] : undefined);
    });
  });
}
