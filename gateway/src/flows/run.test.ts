import { describe, expect, it } from 'vitest';
import { FakeCall } from './testing/fake-call.js';
import { harness } from './testing/harness.js';
import { parseVerbs } from './verbs/schema.js';

describe('redirect', () => {
  it('replaces the flow with another one', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'redirect', flow: 'menu' },
          { verb: 'say', text: 'never' },
        ],
        menu: [{ verb: 'say', text: 'Menu.' }],
      },
    });
    await h.runner.run(new FakeCall(), 'main');
    expect(h.speech.spoken).toEqual(['Menu.']);
    expect(h.log.summary()).toEqual(['redirect:redirected', 'say:completed']);
    expect(h.log.of('flow.start').map((e) => [e.flow, e.source])).toEqual([
      ['main', 'config'],
      ['menu', 'config'],
    ]);
  });

  it('ends a loop of redirects without the caller doing anything, and hangs up with the reason', async () => {
    const h = harness({
      limits: { redirectsInARow: 5 },
      flows: { a: [{ verb: 'redirect', flow: 'b' }], b: [{ verb: 'redirect', flow: 'a' }] },
    });
    const call = new FakeCall();
    const outcome = await h.runner.run(call, 'a');
    expect(outcome.reason).toBe('redirect_loop');
    expect(h.log.of('verb.result')).toHaveLength(6);
    expect(call.hangups).toEqual(['flow_redirect_loop']);
    expect(h.log.of('flow.end')[0]?.reason).toBe('redirect_loop');
  });

  it('lets a menu loop while the caller keeps pressing keys', async () => {
    const h = harness({
      limits: { redirectsInARow: 2 },
      flows: {
        menu: [
          {
            verb: 'gather',
            numDigits: 1,
            timeout: 60,
            prompt: { say: { text: 'Press 9 to hear this again.' } },
          },
          { verb: 'redirect', flow: 'menu' },
        ],
      },
    });
    const call = new FakeCall({ playMode: 'hold' });
    let prompts = 0;
    call.on('play', () => {
      prompts += 1;
      if (prompts <= 6) call.press('9');
      else call.callerHangsUp();
    });
    const outcome = await h.runner.run(call, 'menu');
    expect(outcome.reason).toBe('caller_hangup');
    expect(prompts).toBe(7);
  });

  it('an unknown flow runs the built-in apology and says why', async () => {
    const h = harness({ flows: { main: [{ verb: 'redirect', flow: 'nowhere' }] } });
    const call = new FakeCall();
    await h.runner.run(call, 'main');
    expect(h.log.of('source.error')[0]).toMatchObject({
      reason: 'flow_not_found',
      flow: 'nowhere',
      fallback: 'parley.unavailable',
    });
    expect(h.speech.spoken).toEqual([
      'We are sorry, no one can take your call right now. Please try again later.',
    ]);
    expect(call.hangups).toEqual(['flow_source_failed']);
  });
});

describe('events', () => {
  it('every event names the call, the tenant and the flow, in order, with ISO times', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'say', text: 'hi' },
          { verb: 'pause', length: 0 },
        ],
      },
    });
    const call = new FakeCall();
    await h.runner.run(call, 'main');
    for (const [i, event] of h.log.events.entries()) {
      expect(event).toMatchObject({
        callId: call.context.callId,
        tenant: 'acme',
        flow: 'main',
        seq: i + 1,
      });
      expect(new Date(event.at).toISOString()).toBe(event.at);
    }
    const start = h.log.of('verb.start')[0];
    expect(start?.options).toMatchObject({
      verb: 'say',
      text: 'hi',
      loop: 1,
      interruptible: false,
    });
  });
});

describe('parseVerbs', () => {
  it('applies the documented defaults', () => {
    const parsed = parseVerbs([{ verb: 'gather' }, { verb: 'record' }, { verb: 'hangup' }]);
    expect(parsed).toMatchObject({
      ok: true,
      verbs: [
        { verb: 'gather', finishOnKey: '#', timeout: 5 },
        {
          verb: 'record',
          maxLengthSeconds: 3600,
          silenceTimeoutSeconds: 5,
          finishOnKey: '1234567890*#',
          beep: true,
        },
        { verb: 'hangup', reason: 'completed' },
      ],
    });
  });

  it.each([
    ['not a list', { verb: 'say' }, 'not_a_list'],
    ['an unknown verb', [{ verb: 'say', text: 'a' }, { verb: 'conference' }], 'unknown_verb'],
    ['a missing verb name', [{ text: 'a' }], 'unknown_verb'],
    ['an unknown option', [{ verb: 'say', text: 'a', colour: 'red' }], 'invalid_options'],
    ['a wrong type', [{ verb: 'gather', numDigits: 'four' }], 'invalid_options'],
    [
      'play with both file and url',
      [{ verb: 'play', file: 'a.wav', url: 'https://a.test/a.wav' }],
      'invalid_options',
    ],
    [
      'a hangup reason that is not a code',
      [{ verb: 'hangup', reason: 'because' }],
      'invalid_options',
    ],
    [
      'a number that is not E.164',
      [{ verb: 'dial', target: { type: 'phone', number: '555-1234' } }],
      'invalid_options',
    ],
    ['too many verbs', Array.from({ length: 101 }, () => ({ verb: 'pause' })), 'too_many_verbs'],
  ])('refuses %s', (_name, value, reason) => {
    expect(parseVerbs(value)).toMatchObject({ ok: false, reason });
  });

  it('says where the problem is', () => {
    expect(
      parseVerbs([
        { verb: 'say', text: 'ok' },
        { verb: 'gather', timeout: -1 },
      ]),
    ).toMatchObject({
      detail: expect.stringMatching(/^1\.timeout: /),
    });
    expect(parseVerbs([{ verb: 'say', text: 'ok' }, { verb: 'dance' }])).toMatchObject({
      detail: '1.verb: unknown verb "dance"',
    });
  });
});
