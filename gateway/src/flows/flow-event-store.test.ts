import { describe, expect, it } from 'vitest';
import { openDatabase } from '../storage/index.js';
import { FLOW_SCHEMA, SqliteFlowEventStore } from './flow-event-store.js';
import { FakeCall } from './testing/fake-call.js';
import { harness } from './testing/harness.js';

describe('SqliteFlowEventStore', () => {
  it('keeps what each verb did, in order, and leaves out live-only events', async () => {
    const store = new SqliteFlowEventStore(openDatabase(':memory:', [FLOW_SCHEMA]));
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
    const stored = store.list(call.context.callId);
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
    // The same event twice is stored once.
    store.event(stored[0]!);
    expect(store.list(call.context.callId)).toHaveLength(stored.length);
  });
});
