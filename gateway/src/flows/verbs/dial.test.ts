import { describe, expect, it } from 'vitest';
import type { DialAttempt } from '../ports.js';
import { FakeCall, fakeBridge } from '../testing/fake-call.js';
import { harness } from '../testing/harness.js';

describe('dial', () => {
  it('rings the target, bridges on answer, and goes on with the flow when the target hangs up', async () => {
    const bridge = fakeBridge('+14155550199');
    const h = harness({
      flows: {
        main: [
          {
            verb: 'dial',
            target: { type: 'phone', number: '+14155550199' },
            timeout: 25,
            callerId: '+15550100',
          },
          { verb: 'say', text: 'Thanks for calling.' },
        ],
      },
    });
    const call = new FakeCall({
      dial: () => {
        setImmediate(() => bridge.end('target'));
        return Promise.resolve({ status: 'answered', bridge });
      },
    });
    call.once('dial', (target, options) => {
      expect(target).toEqual({ type: 'phone', number: '+14155550199' });
      expect(options).toMatchObject({ timeoutSeconds: 25, callerId: '+15550100' });
      // Answer on bridge: the caller's leg is not answered by the gateway first.
      expect(call.answered).toBe(false);
    });
    await h.runner.run(call, 'main');
    expect(h.log.of('verb.result')[0]?.result).toEqual({
      status: 'answered',
      answeredBy: '+14155550199',
      talkSeconds: 0,
    });
    expect(h.log.summary()).toEqual(['dial:answered', 'say:completed']);
  });

  it.each<[DialAttempt, Record<string, unknown>]>([
    [
      { status: 'busy', sipStatus: 486 },
      { status: 'busy', sipStatus: 486 },
    ],
    [{ status: 'no-answer' }, { status: 'no-answer' }],
    [
      { status: 'failed', sipStatus: 503, reason: 'agent_unreachable' },
      { status: 'failed', sipStatus: 503, reason: 'agent_unreachable' },
    ],
  ])('gives %o as the result and goes on', async (attempt, result) => {
    const h = harness({
      flows: {
        main: [
          { verb: 'dial', target: { type: 'agent', agent: 'alice' } },
          { verb: 'say', text: 'Sorry.' },
        ],
      },
    });
    await h.runner.run(new FakeCall({ dial: () => Promise.resolve(attempt) }), 'main');
    expect(h.log.of('verb.result')[0]?.result).toEqual(result);
    expect(h.log.summary()[1]).toBe('say:completed');
  });

  it('is cancelled when the caller hangs up while it rings', async () => {
    const h = harness({
      flows: { main: [{ verb: 'dial', target: { type: 'sip', uri: 'sip:desk@pbx.acme.test' } }] },
    });
    const call = new FakeCall({
      dial: (_t, options) =>
        new Promise((resolve) =>
          options.signal.addEventListener('abort', () => resolve({ status: 'canceled' }), {
            once: true,
          }),
        ),
    });
    call.once('dial', () => setImmediate(() => call.callerHangsUp()));
    const outcome = await h.runner.run(call, 'main');
    expect(outcome.reason).toBe('caller_hangup');
    expect(h.log.of('verb.result')[0]?.result).toEqual({ status: 'canceled' });
  });

  it('hangs the target up at the time limit and the caller stays in the flow', async () => {
    const bridge = fakeBridge('alice');
    const h = harness({
      flows: {
        main: [
          { verb: 'dial', target: { type: 'queue', queue: 'sales' }, timeLimit: 1 },
          { verb: 'say', text: 'Your time is up.' },
        ],
      },
    });
    await h.runner.run(
      new FakeCall({ dial: () => Promise.resolve({ status: 'answered', bridge }) }),
      'main',
    );
    expect(bridge.hungUp).toBe('time_limit');
    expect(h.log.summary()).toEqual(['dial:answered', 'say:completed']);
  });
});

describe('pause and hangup', () => {
  it('pause does not answer the call (TwiML: a first pause delays the answer)', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'pause', length: 0.05 },
          { verb: 'hangup', reason: 'busy' },
        ],
      },
    });
    const call = new FakeCall();
    const outcome = await h.runner.run(call, 'main');
    expect(call.answered).toBe(false);
    expect(call.hangups).toEqual(['busy']);
    expect(outcome.reason).toBe('completed');
    expect(h.log.summary()).toEqual(['pause:completed', 'hangup:completed']);
    expect(h.log.of('verb.result')[1]?.result).toEqual({ status: 'completed', reason: 'busy' });
  });

  it('hangup ends the flow: verbs after it do not run', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'hangup', reason: 'outside_business_hours' },
          { verb: 'say', text: 'never' },
        ],
      },
    });
    const call = new FakeCall();
    await h.runner.run(call, 'main');
    expect(call.hangups).toEqual(['outside_business_hours']);
    expect(h.speech.spoken).toEqual([]);
    expect(h.log.of('flow.end')[0]?.reason).toBe('completed');
  });

  it('pause stops when the caller hangs up', async () => {
    const h = harness({ flows: { main: [{ verb: 'pause', length: 600 }] } });
    const call = new FakeCall();
    const done = h.runner.run(call, 'main');
    await h.log.when((e) => e.type === 'verb.start');
    call.callerHangsUp();
    expect((await done).reason).toBe('caller_hangup');
    expect(h.log.summary()).toEqual(['pause:hangup']);
  });
});
