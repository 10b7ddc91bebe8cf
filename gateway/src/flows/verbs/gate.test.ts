/**
 * The `gate` verb: it hands the call to the gated facility's call path (the
 * port's `gate`), after what the flow did before it (a greeting), and gives
 * its result to the flow; on a call that has no gate (not a gated tenant's)
 * it fails and the flow goes on.
 */
import { describe, expect, it } from 'vitest';
import type { GateResult } from '../verbs/results.js';
import { FakeCall } from '../testing/fake-call.js';
import { harness } from '../testing/harness.js';

describe('gate', () => {
  it('runs after the greeting, on the call the greeting answered, and gives the path’s result', async () => {
    const h = harness({
      flows: {
        line: [
          { verb: 'say', text: 'Welcome to the visiting line.' },
          { verb: 'gate' },
          { verb: 'say', text: 'never: the call is over' },
        ],
      },
    });
    const order: string[] = [];
    const call = new FakeCall({ playMode: 'instant' });
    call.on('answer', () => order.push('answered'));
    const gated = Object.assign(call, {
      gate: (): Promise<GateResult> => {
        order.push(`gate after ${h.speech.spoken.join(' | ')}`);
        // The gated path ends the call itself (connected, then either side hung up).
        void call.hangup('normal_clearing');
        return Promise.resolve({ status: 'connected', talkSeconds: 42 });
      },
    });
    await h.runner.run(gated, 'line');
    expect(order).toEqual(['answered', 'gate after Welcome to the visiting line.']);
    expect(h.log.summary()).toEqual(['say:completed', 'gate:connected']);
    expect(h.log.of('verb.result').at(-1)?.result).toEqual({
      status: 'connected',
      talkSeconds: 42,
    });
    expect(h.speech.spoken).toEqual(['Welcome to the visiting line.']);
  });

  it('passes the resident a line is for', async () => {
    const h = harness({ flows: { line: [{ verb: 'gate', resident: '4701' }] } });
    const asked: unknown[] = [];
    const call = Object.assign(new FakeCall({ playMode: 'instant' }), {
      gate: (options: unknown): Promise<GateResult> => {
        asked.push(options);
        return Promise.resolve({ status: 'refused' });
      },
    });
    await h.runner.run(call, 'line');
    expect(asked).toEqual([{ resident: '4701' }]);
    expect(h.log.summary()).toEqual(['gate:refused']);
  });

  it('hands the keys that interrupted the greeting to the gate, as a gather would get them', async () => {
    const h = harness({
      flows: {
        line: [
          { verb: 'say', text: 'Welcome to the visiting line.', interruptible: true },
          { verb: 'gate' },
        ],
      },
    });
    const asked: unknown[] = [];
    const call = Object.assign(new FakeCall({ playMode: 'hold' }), {
      gate: (options: unknown): Promise<GateResult> => {
        asked.push(options);
        return Promise.resolve({ status: 'refused' });
      },
    });
    // The caller keys the account number and PIN while the greeting plays.
    call.once('play', () => call.press('7051#2580#'));
    await h.runner.run(call, 'line');
    expect(h.log.summary()).toEqual(['say:interrupted', 'gate:refused']);
    expect(asked).toEqual([{ typedAhead: [...'7051#2580#'] }]);
  });

  it('drops keys pressed during a greeting nobody could interrupt, as a gather would', async () => {
    const h = harness({
      flows: {
        line: [{ verb: 'say', text: 'Welcome to the visiting line.' }, { verb: 'gate' }],
      },
    });
    const asked: unknown[] = [];
    const call = Object.assign(new FakeCall({ playMode: 'hold' }), {
      gate: (options: unknown): Promise<GateResult> => {
        asked.push(options);
        return Promise.resolve({ status: 'refused' });
      },
    });
    call.once('play', (play) => {
      call.press('12');
      play.finish();
    });
    await h.runner.run(call, 'line');
    expect(h.log.summary()).toEqual(['say:completed', 'gate:refused']);
    expect(asked).toEqual([{}]);
  });

  it('fails on a call with no gate (not a gated tenant’s) and the flow goes on', async () => {
    const h = harness({
      flows: {
        line: [{ verb: 'gate' }, { verb: 'say', text: 'Visits are by appointment only.' }],
      },
    });
    await h.runner.run(new FakeCall({ playMode: 'instant' }), 'line');
    expect(h.log.of('verb.error').map((e) => [e.verb, e.error.code])).toEqual([
      ['gate', 'verb_failed'],
    ]);
    expect(h.speech.spoken).toEqual(['Visits are by appointment only.']);
  });
});
