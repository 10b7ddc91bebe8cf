import { dirname } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEEP } from '../runtime/tones.js';
import { FakeCall, type FakeRecording } from '../testing/fake-call.js';
import { harness } from '../testing/harness.js';

const SPEECH = -20;
const QUIET = -70;

async function recordWith(
  options: Record<string, unknown>,
  drive: (call: FakeCall, rec: FakeRecording) => void,
) {
  const h = harness({
    flows: {
      main: [
        { verb: 'record', ...options },
        { verb: 'say', text: 'Thank you.' },
      ],
    },
  });
  const call = new FakeCall();
  call.once('recording', (rec) => drive(call, rec));
  await h.runner.run(call, 'main');
  return { h, call, result: h.log.of('verb.result')[0]?.result };
}

describe('record', () => {
  it('beeps, records under the tenant directory, and ends after the silence timeout counted in frames', async () => {
    const { h, call, result } = await recordWith({ silenceTimeoutSeconds: 2 }, (_call, rec) => {
      rec.level(SPEECH, 150); // 3 s of speech
      rec.level(QUIET, 99); // 1.98 s of silence: not yet
      expect(rec.stopped).toBe(false);
      rec.level(QUIET, 1);
    });
    expect(call.plays[0]?.audio).toBe(BEEP);
    const rec = call.recordings[0]!;
    expect(rec.stopped).toBe(true);
    expect(rec.options.signal.aborted).toBe(true);
    expect(dirname(rec.options.path)).toBe(`${h.recordingsDir}/acme`);
    expect(rec.options.path).toMatch(new RegExp(`${call.context.callId}-1\\.wav$`));
    expect(result).toEqual({
      status: 'completed',
      path: rec.options.path,
      durationSeconds: 5,
      bytes: 44 + 250 * 320,
      endedBy: 'silence',
    });
    expect(h.log.summary()).toEqual(['record:completed', 'say:completed']);
  });

  it('ends at a finish key (which is not kept for a later gather), without a beep when told', async () => {
    const { call, result } = await recordWith({ beep: false, finishOnKey: '#' }, (call, rec) => {
      rec.level(SPEECH, 50);
      call.press('1');
      expect(rec.stopped).toBe(false);
      call.press('#');
    });
    expect(call.plays.map((p) => p.audio)).not.toContain(BEEP);
    expect(result).toMatchObject({
      status: 'completed',
      endedBy: 'key',
      key: '#',
      durationSeconds: 1,
    });
  });

  it('ends at the maximum length', async () => {
    const { result } = await recordWith(
      { maxLengthSeconds: 1, silenceTimeoutSeconds: 0 },
      (_call, rec) => rec.level(QUIET, 10),
    );
    expect(result).toMatchObject({ status: 'completed', endedBy: 'max-length' });
  });

  it('keeps the recording when the caller hangs up in the middle, and the result says where it is', async () => {
    const { h, call, result } = await recordWith({}, (call, rec) => {
      rec.level(SPEECH, 100);
      call.callerHangsUp();
    });
    expect(call.recordings[0]?.stopped).toBe(true);
    expect(result).toMatchObject({ status: 'hangup', endedBy: 'hangup', durationSeconds: 2 });
    expect(h.log.summary()).toEqual(['record:hangup']);
    expect(h.log.of('flow.end')[0]?.reason).toBe('caller_hangup');
  });

  it('a recording that cannot start (full disk) is an error and the call goes on', async () => {
    const h = harness({
      flows: { main: [{ verb: 'record' }, { verb: 'say', text: 'Sorry, please try later.' }] },
    });
    const call = new FakeCall({
      recordingError: Object.assign(new Error('ENOSPC: no space left on device'), {
        code: 'ENOSPC',
      }),
    });
    const outcome = await h.runner.run(call, 'main');
    expect(outcome.reason).toBe('completed');
    expect(h.log.summary()).toEqual(['record:error:recording_failed', 'say:completed']);
    expect(h.log.of('verb.error')[0]?.error.message).toMatch(/ENOSPC/);
  });

  it('a recorder that fails while recording keeps what it wrote, says so, and the call goes on', async () => {
    const { h } = await recordWith({}, (_call, rec) => {
      rec.level(SPEECH, 150);
      rec.emit('error', new Error('ENOSPC: no space left on device'));
    });
    expect(h.log.summary()).toEqual(['record:error:recording_failed', 'say:completed']);
    expect(h.log.of('verb.error')[0]?.error.message).toMatch(/ENOSPC.*\(3 s kept\)/);
  });

  it('two recordings of one call get two files', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'record', finishOnKey: '#' },
          { verb: 'record', finishOnKey: '#' },
        ],
      },
    });
    const call = new FakeCall();
    call.on('recording', () => setImmediate(() => call.press('#')));
    await h.runner.run(call, 'main');
    const paths = call.recordings.map((r) => r.options.path);
    expect(paths).toHaveLength(2);
    expect(new Set(paths).size).toBe(2);
  });
});

describe('transcribe', () => {
  it('runs in the background while other verbs run; partial and final results are events; stop gives the text', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'transcribe' },
          { verb: 'record', beep: false, finishOnKey: '#' },
          { verb: 'transcribe', stop: true },
        ],
      },
    });
    const call = new FakeCall();
    call.once('recording', async () => {
      const t = call.transcriptions[0]!;
      t.emit('partial', { utterance: 0, text: 'hello' });
      t.emit('partial', { utterance: 0, text: 'hello I would' });
      t.emit('final', { utterance: 0, text: 'hello I would like a callback', confidence: 0.8 });
      t.emit('final', { utterance: 1, text: 'tomorrow' });
      call.press('#');
    });
    await h.runner.run(call, 'main');
    expect(call.transcriptions[0]?.options).toEqual({ language: 'en-US', partialResults: true });
    expect(h.log.of('transcript.partial').map((e) => e.text)).toEqual(['hello', 'hello I would']);
    expect(h.log.of('transcript.final').map((e) => [e.utterance, e.text])).toEqual([
      [0, 'hello I would like a callback'],
      [1, 'tomorrow'],
    ]);
    const results = h.log.of('verb.result').map((e) => e.result);
    expect(results[0]).toEqual({ status: 'started' });
    expect(results[2]).toEqual({
      status: 'stopped',
      utterances: 2,
      text: 'hello I would like a callback tomorrow',
    });
    expect(call.transcriptions[0]?.stopped).toBe(true);
  });

  it('stops by itself when the flow ends, and a recogniser failure is an event, not the end of the call', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'transcribe', partialResults: false },
          { verb: 'pause', length: 0.05 },
          { verb: 'say', text: 'bye' },
        ],
      },
    });
    const call = new FakeCall();
    call.once('transcription', (t) => {
      t.emit('partial', { utterance: 0, text: 'not sent' });
      t.emit('error', new Error('pocketsphinx died'));
    });
    const outcome = await h.runner.run(call, 'main');
    expect(outcome.reason).toBe('completed');
    expect(h.log.of('transcript.partial')).toEqual([]);
    expect(h.log.of('transcript.error')[0]?.error).toEqual({
      code: 'verb_failed',
      message: 'pocketsphinx died',
    });
    expect(call.transcriptions[0]?.stopped).toBe(true);
    expect(h.log.summary()).toEqual(['transcribe:started', 'pause:completed', 'say:completed']);
  });

  it('stop without a running transcription says so', async () => {
    const h = harness({ flows: { main: [{ verb: 'transcribe', stop: true }] } });
    await h.runner.run(new FakeCall(), 'main');
    expect(h.log.of('verb.result')[0]?.result).toEqual({ status: 'not-running' });
  });
});
