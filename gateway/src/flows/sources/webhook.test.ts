/**
 * Webhook flows against a real local HTTP server: the first request, the
 * follow-ups of actionHooks with each verb's result, status callbacks in
 * order, the signature, and every way a webhook can fail (each runs the
 * fallback flow and the record says why).
 */
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { FakeCall } from '../testing/fake-call.js';
import { harness } from '../testing/harness.js';
import { WebhookSource, type WebhookSettings } from './webhook.js';

interface Received {
  readonly path: string;
  readonly body: Record<string, unknown>;
  readonly signature: string | undefined;
  readonly raw: string;
}

type Handler = (req: Received, res: ServerResponse) => void;

const received: Received[] = [];
const handlers = new Map<string, Handler>();
const server = createServer((req: IncomingMessage, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks).toString();
    const entry: Received = {
      path: req.url ?? '',
      body: JSON.parse(raw) as Record<string, unknown>,
      signature: req.headers['x-parley-signature'] as string | undefined,
      raw,
    };
    received.push(entry);
    const handler = handlers.get(entry.path);
    if (handler) handler(entry, res);
    else res.writeHead(404).end();
  });
});
let base = '';
beforeAll(async () => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => server.close());

const json = (res: ServerResponse, value: unknown): void => {
  res.setHeader('content-type', 'application/json').end(JSON.stringify(value));
};

let counter = 0;
function webhookFlow(handler: Handler, settings: Partial<WebhookSettings> = {}) {
  counter += 1;
  const path = `/hook${counter}`;
  handlers.set(path, handler);
  const source = new WebhookSource(
    'hooked',
    {
      url: `${base}${path}`,
      statusUrl: undefined,
      timeoutMs: 1000,
      secret: undefined,
      statusEvents: false,
      fallback: 'sorry',
      ...settings,
    },
    { logger: createLogger('silent') },
  );
  const h = harness({
    sources: [source],
    flows: { sorry: [{ verb: 'say', text: 'Sorry, try later.' }] },
  });
  return { h, path, requests: () => received.filter((r) => r.path === path) };
}

describe('webhook flows', () => {
  it('posts the call context and runs the verbs it answers', async () => {
    const { h, requests } = webhookFlow((_req, res) =>
      json(res, [{ verb: 'say', text: 'Hello from the webhook.' }]),
    );
    const call = new FakeCall({ context: { customerId: 'C-7', privateClaims: { plan: 'gold' } } });
    await h.runner.run(call, 'hooked');
    expect(h.speech.spoken).toEqual(['Hello from the webhook.']);
    const [first] = requests();
    expect(first?.body).toMatchObject({
      event: 'call',
      flow: 'hooked',
      call: {
        callId: call.context.callId,
        tenant: 'acme',
        channel: 'phone',
        from: '+14155550123',
        customerId: 'C-7',
        privateClaims: { plan: 'gold' },
      },
    });
    expect(h.log.of('flow.start')[0]).toMatchObject({ flow: 'hooked', source: 'webhook' });
  });

  it('accepts { verbs: [...] } as well as a bare list', async () => {
    const { h } = webhookFlow((_req, res) =>
      json(res, { verbs: [{ verb: 'say', text: 'Wrapped.' }] }),
    );
    await h.runner.run(new FakeCall(), 'hooked');
    expect(h.speech.spoken).toEqual(['Wrapped.']);
  });

  it("posts a gather's digits to its actionHook and runs the answer instead of the rest", async () => {
    const { h, requests } = webhookFlow((req, res) => {
      if (req.body['event'] === 'call')
        return json(res, [
          {
            verb: 'gather',
            numDigits: 1,
            timeout: 60,
            actionHook: true,
            prompt: { say: { text: 'Press 1 or 2.' } },
          },
          { verb: 'say', text: 'not reached: the answer replaces it' },
        ]);
      const digits = (req.body['result'] as { digits: string }).digits;
      return json(res, [{ verb: 'say', text: `You chose ${digits}.` }]);
    });
    const call = new FakeCall({ playMode: 'hold' });
    call.once('play', () => call.press('2'));
    call.on('play', (p) => setImmediate(() => p.finish()));
    await h.runner.run(call, 'hooked');
    expect(h.speech.spoken).toEqual(['Press 1 or 2.', 'You chose 2.']);
    const action = requests()[1];
    expect(action?.body).toMatchObject({
      event: 'action',
      flow: 'hooked',
      verb: { index: 0, name: 'gather' },
      result: { status: 'completed', digits: '2', finishedBy: 'numDigits' },
    });
  });

  it('an action answered 204 goes on with the rest of the flow; an actionHook URL may name another path', async () => {
    const { h, requests, path } = webhookFlow((req, res) => {
      if (req.body['event'] === 'call')
        return json(res, [
          { verb: 'pause', length: 0, actionHook: `${base}${path}/after-pause` },
          { verb: 'say', text: 'The rest.' },
        ]);
      return res.writeHead(204).end();
    });
    handlers.set(`${path}/after-pause`, (_req, res) => res.writeHead(204).end());
    await h.runner.run(new FakeCall(), 'hooked');
    expect(h.speech.spoken).toEqual(['The rest.']);
    expect(received.filter((r) => r.path === `${path}/after-pause`)).toHaveLength(1);
    expect(requests()).toHaveLength(1);
  });

  it('sends every event of the call to the status URL, in order, signed', async () => {
    const secret = 'whsec-0123456789abcdef';
    const statuses: Received[] = [];
    let statusesDone!: () => void;
    const allStatuses = new Promise<void>((r) => (statusesDone = r));
    const { h, requests, path } = webhookFlow(
      (_req, res) => json(res, [{ verb: 'say', text: 'hi' }, { verb: 'hangup' }]),
      { secret, statusEvents: true, statusUrl: undefined },
    );
    void h;
    handlers.set(`${path}/status`, (req, res) => {
      statuses.push(req);
      res.writeHead(204).end();
      if (req.body['type'] === 'flow.end') statusesDone();
    });
    const source = new WebhookSource(
      'hooked',
      {
        url: `${base}${path}`,
        statusUrl: `${base}${path}/status`,
        timeoutMs: 1000,
        secret,
        statusEvents: true,
        fallback: undefined,
      },
      { logger: createLogger('silent') },
    );
    const withStatus = harness({ sources: [source] });
    await withStatus.runner.run(new FakeCall(), 'hooked');
    await allStatuses;
    expect(statuses.map((s) => s.body['type'])).toEqual(withStatus.log.events.map((e) => e.type));
    expect(statuses.map((s) => s.body['seq'])).toEqual(withStatus.log.events.map((e) => e.seq));
    expect(statuses.every((s) => s.body['event'] === 'status')).toBe(true);
    // The signature: t=<seconds>,v1=HMAC-SHA256(secret, "t.body").
    for (const request of [...requests(), ...statuses]) {
      const match = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(request.signature ?? '');
      expect(match).not.toBeNull();
      const expected = createHmac('sha256', secret)
        .update(`${match![1]}.${request.raw}`)
        .digest('hex');
      expect(match![2]).toBe(expected);
    }
  });

  describe('failures run the fallback flow and the record says why', () => {
    it.each<[string, Handler, string, RegExp]>([
      ['a timeout', () => undefined, 'timeout', /no answer in 300 ms/],
      ['an HTTP error', (_r, res) => res.writeHead(500).end('oops'), 'http_500', /answered 500/],
      [
        'a body that is not JSON',
        (_r, res) => res.setHeader('content-type', 'text/html').end('<Response/>'),
        'not_json',
        /text\/html/,
      ],
      [
        'JSON that is not a list',
        (_r, res) => json(res, { say: 'hi' }),
        'not_a_list',
        /list of verbs/,
      ],
      [
        'an unknown verb',
        (_r, res) => json(res, [{ verb: 'conference', room: 'x' }]),
        'unknown_verb',
        /0\.verb: unknown verb "conference"/,
      ],
      [
        'invalid options',
        (_r, res) => json(res, [{ verb: 'gather', timeout: 'soon' }]),
        'invalid_options',
        /0\.timeout/,
      ],
      [
        'an actionHook off the webhook origin',
        (_r, res) => json(res, [{ verb: 'pause', actionHook: 'https://elsewhere.test/x' }]),
        'invalid_options',
        /must be on http:\/\/127\.0\.0\.1/,
      ],
    ])('%s', async (_name, handler, reason, detail) => {
      const { h } = webhookFlow(handler, { timeoutMs: 300 });
      const call = new FakeCall();
      const outcome = await h.runner.run(call, 'hooked');
      expect(outcome.reason).toBe('completed');
      expect(h.log.of('source.error')).toEqual([
        expect.objectContaining({
          source: 'webhook',
          reason,
          detail: expect.stringMatching(detail),
          fallback: 'sorry',
        }),
      ]);
      expect(h.speech.spoken).toEqual(['Sorry, try later.']);
      expect(h.log.of('flow.start').map((e) => e.flow)).toEqual(['sorry']);
    });

    it('a webhook that cannot be reached', async () => {
      const source = new WebhookSource(
        'hooked',
        {
          url: 'http://127.0.0.1:9/',
          statusUrl: undefined,
          timeoutMs: 1000,
          secret: undefined,
          statusEvents: false,
          fallback: undefined,
        },
        { logger: createLogger('silent') },
      );
      const h = harness({ sources: [source] });
      const call = new FakeCall();
      await h.runner.run(call, 'hooked');
      expect(h.log.of('source.error')[0]).toMatchObject({
        reason: 'unreachable',
        fallback: 'parley.unavailable',
      });
      expect(call.hangups).toEqual(['flow_source_failed']);
    });

    it('a follow-up that fails runs the fallback too', async () => {
      const { h } = webhookFlow((req, res) => {
        if (req.body['event'] === 'call')
          return json(res, [
            { verb: 'pause', length: 0, actionHook: true },
            { verb: 'say', text: 'never' },
          ]);
        return res.writeHead(502).end();
      });
      await h.runner.run(new FakeCall(), 'hooked');
      expect(h.log.of('source.error')[0]).toMatchObject({ reason: 'http_502', fallback: 'sorry' });
      expect(h.speech.spoken).toEqual(['Sorry, try later.']);
    });

    it('a webhook that answers with a redirect to itself forever is stopped', async () => {
      const { h } = webhookFlow((_req, res) =>
        json(res, [{ verb: 'pause', length: 0, actionHook: true }]),
      );
      const call = new FakeCall();
      const outcome = await h.runner.run(call, 'hooked');
      expect(outcome.reason).toBe('redirect_loop');
      expect(call.hangups).toEqual(['flow_redirect_loop']);
    });
  });
});

describe('a caller who hangs up while the webhook is asked', () => {
  it('cuts the request and records no webhook failure', async () => {
    let asked!: () => void;
    const askedPromise = new Promise<void>((r) => (asked = r));
    const { h } = webhookFlow(() => asked()); // never answers
    const call = new FakeCall();
    const done = h.runner.run(call, 'hooked');
    await askedPromise;
    call.callerHangsUp();
    expect((await done).reason).toBe('caller_hangup');
    expect(h.log.of('source.error')).toEqual([]);
    expect(h.speech.spoken).toEqual([]);
  });
});
