/**
 * The voicemail webhook outbox against a real HTTP receiver and a real SQLite
 * file: events arrive in order, signed; a failing receiver gets the same
 * delivery again until it answers 2xx; what a stopped gateway had not sent
 * is sent by the next one from the same database.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { VoicemailEvent, VoicemailView } from '@parley/shared/protocol';
import { until } from '@parley/testkit';
import { createLogger } from '../observability/index.js';
import { openDatabase } from '../storage/index.js';
import { VOICEMAIL_SCHEMA } from './store.js';
import { VoicemailWebhooks } from './webhooks.js';

const SECRET = 'a-webhook-secret-of-tests';

interface Received {
  readonly delivery: string;
  readonly attempt: string;
  readonly signature: string;
  readonly body: string;
}

/** A receiver answering `statuses` in turn (then 200); it keeps every request. */
async function receiver(
  statuses: number[],
): Promise<{ server: Server; url: string; got: Received[] }> {
  const got: Received[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({
        delivery: String(req.headers['x-parley-delivery']),
        attempt: String(req.headers['x-parley-attempt']),
        signature: String(req.headers['x-parley-signature']),
        body: Buffer.concat(chunks).toString(),
      });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return { server, url: `http://127.0.0.1:${port}/hooks/voicemail`, got };
}

const view = { id: 'vm-1', tenant: 'acme', hasRecording: true, privateClaims: { pin: '1' } };
const events: VoicemailEvent[] = [
  { type: 'voicemail-started', voicemail: view as unknown as VoicemailView },
  { type: 'voicemail-partial', voicemailId: 'vm-1', utterance: 0, text: 'please' },
  {
    type: 'voicemail-final',
    voicemailId: 'vm-1',
    utterance: { utterance: 0, text: 'please call me', startMs: 0, endMs: 900 },
  },
  { type: 'voicemail-ended', voicemail: view as unknown as VoicemailView },
];

function webhooks(path: string, url: string): VoicemailWebhooks {
  return new VoicemailWebhooks({
    db: openDatabase(path, [VOICEMAIL_SCHEMA]),
    target: (tenant) =>
      tenant === 'acme' ? { url, secret: SECRET, partials: true, timeoutMs: 2000 } : undefined,
    tenantOf: () => 'acme',
    recordingUrl: (id) => `https://gw.example/v1/voicemails/${id}/recording`,
    // Short waits between retries: the test waits for arrivals, not for time.
    maxBackoffMs: 20,
    logger: createLogger('silent'),
  });
}

const arrived = (got: Received[], n: number) =>
  until(() => got.length >= n, `${n} deliveries`, 15_000, 10);

const servers: Server[] = [];
afterEach(() => {
  for (const s of servers.splice(0)) s.close();
});

describe('VoicemailWebhooks', () => {
  it('delivers in order, signed, retrying a failing receiver with the same delivery id', async () => {
    const r = await receiver([500, 503]);
    servers.push(r.server);
    const path = join(mkdtempSync(join(tmpdir(), 'parley-vmhooks-')), 'db.sqlite');
    const hooks = webhooks(path, r.url);
    hooks.start();
    for (const event of events) hooks.publish(event);
    await arrived(r.got, 6);
    // The first delivery three times (500, 503, 200), then one each.
    expect(r.got.map((g) => g.delivery)).toEqual(['1', '1', '1', '2', '3', '4']);
    expect(r.got.slice(0, 3).map((g) => g.attempt)).toEqual(['1', '2', '3']);
    const bodies = r.got.slice(2).map((g) => JSON.parse(g.body) as Record<string, unknown>);
    expect(bodies.map((b) => b['type'])).toEqual(events.map((e) => e.type));
    expect(bodies[3]?.['recordingUrl']).toBe('https://gw.example/v1/voicemails/vm-1/recording');
    expect(JSON.stringify(bodies)).not.toContain('privateClaims');
    for (const g of r.got) {
      const [t, v1] = g.signature.split(',').map((p) => p.split('=')[1]);
      const mac = createHmac('sha256', SECRET).update(`${t}.${g.body}`).digest('hex');
      expect(v1).toBe(mac);
    }
    // The receiver keeps a request before it answers: the last row goes once its 200 is read.
    await until(() => hooks.pending === 0, 'the outbox emptied by the last 2xx');
    hooks.close();
  });

  it('keeps what it could not send across a restart and sends it then', async () => {
    const down = await receiver([503, 503, 503, 503, 503, 503, 503, 503]);
    servers.push(down.server);
    const path = join(mkdtempSync(join(tmpdir(), 'parley-vmhooks-')), 'db.sqlite');
    const first = webhooks(path, down.url);
    first.start();
    first.publish(events[0]!);
    first.publish(events[3]!);
    await arrived(down.got, 2);
    first.close();
    expect(first.pending).toBe(2);
    // The receiver comes back at the same address; a new gateway opens the same database.
    down.got.length = 0;
    const second = webhooks(path, down.url);
    down.server.removeAllListeners('request');
    down.server.on('request', (req: IncomingMessage, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        down.got.push({
          delivery: String(req.headers['x-parley-delivery']),
          attempt: String(req.headers['x-parley-attempt']),
          signature: '',
          body: Buffer.concat(chunks).toString(),
        });
        res.end();
      });
    });
    second.start();
    await arrived(down.got, 2);
    expect(down.got.map((g) => g.delivery)).toEqual(['1', '2']);
    expect(down.got.map((g) => (JSON.parse(g.body) as { type: string }).type)).toEqual([
      'voicemail-started',
      'voicemail-ended',
    ]);
    await until(() => second.pending === 0, 'the outbox emptied', 15_000, 10);
    second.close();
  });
});
