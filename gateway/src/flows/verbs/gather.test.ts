import { describe, expect, it } from 'vitest';
import { FakeCall, FakeSpeech } from '../testing/fake-call.js';
import { harness } from '../testing/harness.js';

const resultOf = async (
  gather: Record<string, unknown>,
  drive: (call: FakeCall) => void,
  speech?: FakeSpeech,
) => {
  const h = harness({
    ...(speech ? { speech } : {}),
    flows: { main: [{ verb: 'gather', ...gather }] },
  });
  const call = new FakeCall({ playMode: 'hold' });
  drive(call);
  await h.runner.run(call, 'main');
  return { result: h.log.of('verb.result')[0]?.result, h, call };
};

describe('gather', () => {
  it('stops its prompt at the first key, which counts as the first digit, and ends at the finish key', async () => {
    const { result, call } = await resultOf(
      { prompt: { say: { text: 'Enter your account number, then hash.' } }, timeout: 60 },
      (call) =>
        call.once('play', (play) => {
          call.press('4');
          expect(play.signal.aborted).toBe(true);
          call.press('2#');
        }),
    );
    expect(result).toEqual({ status: 'completed', digits: '42', finishedBy: 'finishOnKey' });
    expect(call.plays).toHaveLength(1);
  });

  it('ends after numDigits without waiting for a finish key', async () => {
    const { result } = await resultOf({ numDigits: 3, timeout: 60 }, (call) =>
      call.once('answer', () => call.press('1234')),
    );
    expect(result).toEqual({ status: 'completed', digits: '123', finishedBy: 'numDigits' });
  });

  it('times out with no key: status timeout, no digits', async () => {
    const { result } = await resultOf({ timeout: 0.1 }, () => undefined);
    expect(result).toEqual({ status: 'timeout', digits: '', finishedBy: 'timeout' });
  });

  it('gives the digits typed so far when the time between keys runs out', async () => {
    const { result } = await resultOf({ timeout: 60, interDigitTimeout: 0.1 }, (call) =>
      call.once('answer', () => call.press('12')),
    );
    expect(result).toEqual({ status: 'completed', digits: '12', finishedBy: 'timeout' });
  });

  it("with finishOnKey '' the hash key is a digit", async () => {
    const { result } = await resultOf({ finishOnKey: '', numDigits: 2, timeout: 60 }, (call) =>
      call.once('answer', () => call.press('#*')),
    );
    expect(result).toEqual({ status: 'completed', digits: '#*', finishedBy: 'numDigits' });
  });

  it('stops when the caller hangs up while waiting for keys', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'gather', timeout: 600 },
          { verb: 'say', text: 'never' },
        ],
      },
    });
    const call = new FakeCall();
    const done = h.runner.run(call, 'main');
    await h.log.when((e) => e.type === 'verb.start' && e.verb === 'gather');
    call.press('5');
    call.callerHangsUp();
    expect((await done).reason).toBe('caller_hangup');
    expect(h.log.of('verb.result')[0]?.result).toEqual({
      status: 'hangup',
      digits: '5',
      finishedBy: 'hangup',
    });
    expect(h.speech.spoken).toEqual([]);
  });

  it('reads the keys even when its prompt cannot be played, and says why', async () => {
    const speech = new FakeSpeech(() => true);
    const { result } = await resultOf(
      { prompt: { say: { text: 'menu' } }, numDigits: 1, timeout: 60 },
      (call) => call.once('answer', () => setImmediate(() => call.press('3'))),
      speech,
    );
    expect(result).toMatchObject({
      status: 'completed',
      digits: '3',
      promptError: { code: 'prompt_unavailable' },
    });
  });

  it('a key press reaches the next verb in the same turn of the event loop (no polling)', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'gather', numDigits: 1, timeout: 60 },
          { verb: 'say', text: 'You pressed one.' },
        ],
      },
    });
    const call = new FakeCall({ playMode: 'hold' });
    const done = h.runner.run(call, 'main');
    await h.log.when((e) => e.type === 'verb.start' && e.verb === 'gather');
    await new Promise((r) => setImmediate(r));
    // No timer and no I/O between the key and the next verb's start: only promise jobs.
    let macrotask = false;
    setImmediate(() => (macrotask = true));
    const started = h.log.when((e) => e.type === 'verb.start' && e.verb === 'say');
    call.press('1');
    await started;
    expect(macrotask).toBe(false);
    call.callerHangsUp();
    await done;
  });
});
