import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FakeCall, FakeSpeech } from '../testing/fake-call.js';
import { harness, wavBytes } from '../testing/harness.js';

describe('say', () => {
  it('answers the call, speaks the text and hangs up at the end of the flow', async () => {
    const h = harness({
      flows: { main: [{ verb: 'say', text: 'Welcome to Acme.', voice: 'slt' }] },
    });
    const call = new FakeCall();
    const outcome = await h.runner.run(call, 'main');
    expect(outcome.reason).toBe('completed');
    expect(call.answered).toBe(true);
    expect(h.speech.spoken).toEqual(['Welcome to Acme.']);
    expect(h.log.summary()).toEqual(['say:completed']);
    expect(h.log.events.map((e) => e.type)).toEqual([
      'flow.start',
      'verb.start',
      'verb.result',
      'flow.end',
    ]);
    expect(h.log.events.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    expect(call.hangups).toEqual(['completed']);
  });

  it('loops the text', async () => {
    const h = harness({ flows: { main: [{ verb: 'say', text: 'Hello', loop: 3 }] } });
    const call = new FakeCall();
    await h.runner.run(call, 'main');
    expect(call.plays).toHaveLength(3);
    expect(h.log.of('verb.result')[0]?.result).toEqual({ status: 'completed', plays: 3 });
  });

  it('stops at a key when interruptible, and the key is the first digit of the gather after it', async () => {
    const h = harness({
      flows: {
        main: [
          {
            verb: 'say',
            text: 'For sales press 1, for support press 2.',
            interruptible: true,
            loop: 0,
          },
          { verb: 'gather', numDigits: 2, timeout: 60 },
        ],
      },
    });
    const call = new FakeCall({ playMode: 'hold' });
    call.once('play', () => call.press('2'));
    const done = h.runner.run(call, 'main');
    await h.log.when((e) => e.type === 'verb.start' && e.verb === 'gather');
    call.press('7');
    await done;
    const results = h.log.of('verb.result').map((e) => e.result);
    expect(results[0]).toEqual({ status: 'interrupted', key: '2', plays: 1 });
    expect(results[1]).toEqual({ status: 'completed', digits: '27', finishedBy: 'numDigits' });
  });

  it('only stops at the keys it was given', async () => {
    const h = harness({
      flows: { main: [{ verb: 'say', text: 'Press hash.', interruptible: '#' }] },
    });
    const call = new FakeCall({ playMode: 'hold' });
    call.once('play', (play) => {
      call.press('1');
      expect(play.signal.aborted).toBe(false);
      call.press('#');
      expect(play.signal.aborted).toBe(true);
    });
    await h.runner.run(call, 'main');
    expect(h.log.of('verb.result')[0]?.result).toEqual({
      status: 'interrupted',
      key: '#',
      plays: 1,
    });
  });

  it('is not stopped by keys when not interruptible, and a gather after it does not get them', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'say', text: 'Listen.' },
          { verb: 'gather', numDigits: 1, timeout: 0.1 },
        ],
      },
    });
    const call = new FakeCall({ playMode: 'hold' });
    call.once('play', (play) => {
      call.press('9');
      expect(play.signal.aborted).toBe(false);
      play.finish();
    });
    await h.runner.run(call, 'main');
    expect(h.log.summary()).toEqual(['say:completed', 'gather:timeout']);
  });

  it('stops at once when the caller hangs up, and nothing after it runs', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'say', text: 'A long text', loop: 0 },
          { verb: 'say', text: 'never' },
        ],
      },
    });
    const call = new FakeCall({ playMode: 'hold' });
    call.once('play', (play) => {
      call.callerHangsUp();
      expect(play.signal.aborted).toBe(true);
    });
    const outcome = await h.runner.run(call, 'main');
    expect(outcome.reason).toBe('caller_hangup');
    expect(h.log.summary()).toEqual(['say:hangup']);
    expect(h.speech.spoken).toEqual(['A long text']);
    expect(call.hangups).toEqual([]);
    expect(h.log.of('flow.end')[0]?.reason).toBe('caller_hangup');
  });

  it('a speech failure is a verb error and the flow goes on', async () => {
    const speech = new FakeSpeech((text) => text === 'broken');
    const h = harness({
      speech,
      flows: {
        main: [
          { verb: 'say', text: 'broken' },
          { verb: 'say', text: 'fine' },
        ],
      },
    });
    await h.runner.run(new FakeCall(), 'main');
    expect(h.log.summary()).toEqual(['say:error:prompt_unavailable', 'say:completed']);
  });
});

describe('play', () => {
  it('plays a WAV file from the prompts directory', async () => {
    const h = harness({ flows: { main: [{ verb: 'play', file: 'hello.wav' }] } });
    const path = h.writePrompt('hello.wav');
    const call = new FakeCall();
    await h.runner.run(call, 'main');
    expect(call.plays[0]?.audio).toEqual({ kind: 'file', path });
    expect(h.log.summary()).toEqual(['play:completed']);
  });

  it('refuses files outside the prompts directories, missing files and files that are not WAV, and goes on', async () => {
    const h = harness({
      flows: {
        main: [
          { verb: 'play', file: '../secret.wav' },
          { verb: 'play', file: 'missing.wav' },
          { verb: 'play', file: 'text.wav' },
          { verb: 'play', file: 'link.wav' },
          { verb: 'play', file: '/etc/passwd' },
          { verb: 'say', text: 'still here' },
        ],
      },
    });
    h.writePrompt('text.wav', Buffer.from('not a wav file at all'));
    writeFileSync(join(h.dir, 'secret.wav'), wavBytes());
    symlinkSync(join(h.dir, 'secret.wav'), join(h.promptsDir, 'link.wav'));
    const call = new FakeCall();
    await h.runner.run(call, 'main');
    expect(h.log.summary()).toEqual([
      'play:error:prompt_unavailable',
      'play:error:prompt_unavailable',
      'play:error:prompt_unavailable',
      'play:error:prompt_unavailable',
      'play:error:prompt_unavailable',
      'say:completed',
    ]);
    const messages = h.log.of('verb.error').map((e) => e.error.message);
    expect(messages[0]).toMatch(/outside prompts\.dirs|no such file/);
    expect(messages[2]).toMatch(/not a WAV file/);
    expect(messages[3]).toMatch(/outside prompts\.dirs/);
    expect(call.plays).toHaveLength(1);
  });

  describe('from a URL (a real local HTTP server)', () => {
    const server = createServer((req, res) => {
      if (req.url === '/prompts/hello.wav')
        res.setHeader('content-type', 'audio/wav').end(wavBytes());
      else if (req.url === '/prompts/big.wav')
        res.end(Buffer.concat([wavBytes(), Buffer.alloc(5000)]));
      else res.writeHead(404).end();
    });
    let base = '';
    beforeAll(async () => {
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(() => server.close());

    it('fetches allowed URLs, refuses others, and says why', async () => {
      const h = harness({
        prompts: {
          urls: [`http://127.0.0.1:${(server.address() as AddressInfo).port}/prompts/`],
          maxBytes: 1000,
        },
        flows: {
          main: [
            { verb: 'play', url: `${base}/prompts/hello.wav` },
            { verb: 'play', url: `${base}/prompts/hello.wav` },
            { verb: 'play', url: `${base}/other/hello.wav` },
            { verb: 'play', url: `${base}/prompts/missing.wav` },
            { verb: 'play', url: `${base}/prompts/big.wav` },
          ],
        },
      });
      const call = new FakeCall();
      await h.runner.run(call, 'main');
      expect(h.log.summary()).toEqual([
        'play:completed',
        'play:completed',
        'play:error:prompt_unavailable',
        'play:error:prompt_unavailable',
        'play:error:prompt_unavailable',
      ]);
      expect(call.plays[0]?.audio).toMatchObject({
        kind: 'wav',
        name: `${base}/prompts/hello.wav`,
      });
      // The second play came from the cache: the same bytes.
      expect(call.plays[1]?.audio).toBe(call.plays[0]?.audio);
      expect(h.log.of('verb.error').map((e) => e.error.message)).toEqual([
        expect.stringMatching(/not under prompts\.urls/),
        expect.stringMatching(/HTTP 404/),
        expect.stringMatching(/larger than 1000 bytes/),
      ]);
    });
  });

  it('treats URLs with credentials or another origin as not allowed', () => {
    const h = harness({ prompts: { urls: ['https://cdn.acme.test/prompts/'] } });
    expect(h.prompts.allowedUrl('https://cdn.acme.test/prompts/a.wav')).toBe(true);
    expect(h.prompts.allowedUrl('https://cdn.acme.test@evil.test/prompts/a.wav')).toBe(false);
    expect(h.prompts.allowedUrl('https://user:pw@cdn.acme.test/prompts/a.wav')).toBe(false);
    expect(h.prompts.allowedUrl('https://cdn.acme.test.evil.test/prompts/a.wav')).toBe(false);
    expect(h.prompts.allowedUrl('https://cdn.acme.test/private/a.wav')).toBe(false);
    expect(h.prompts.allowedUrl('file:///etc/passwd')).toBe(false);
  });
});
