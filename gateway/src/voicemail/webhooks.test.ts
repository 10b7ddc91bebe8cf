/**
 * The voicemail webhook outbox against a real HTTP receiver and a real SQLite
 * file: events arrive in order, signed; a failing receiver gets the same
 * delivery again until it answers 2xx; what a stopped gateway had not sent
 * is sent by the next one from the same database; one tenant's failing
 * receiver does not hold back another tenant's events (a lane per receiver),
 * and a tenant's own back-off applies to its retries.
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
import { SqliteWebhookOutbox } from './sqlite-outbox.js';
import { VOICEMAIL_SCHEMA } from './store.js';
import type { LaneTurn, WebhookOutbox } from './outbox.js';
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
    outbox: new SqliteWebhookOutbox(openDatabase(path, [VOICEMAIL_SCHEMA])),
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
    // The first delivery three times (500, 503, 200), then one each: ids unique, kept on retries.
    const ids = r.got.map((g) => g.delivery);
    expect(ids.slice(1, 3)).toEqual([ids[0], ids[0]]);
    expect(new Set(ids.slice(2)).size).toBe(4);
    for (const id of ids) expect(id).toMatch(/^[0-9a-f-]{36}$/);
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
    await until(async () => (await hooks.pending()) === 0, 'the outbox emptied by the last 2xx');
    await hooks.close();
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
    // The lane's head only, retried: the second waits behind it.
    const head = down.got[0]!.delivery;
    expect(down.got.map((g) => g.delivery)).toEqual([head, head]);
    await first.close();
    expect(await first.pending()).toBe(2);
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
    // The head again by its id, then the second.
    expect(down.got[0]!.delivery).toBe(head);
    expect(new Set(down.got.map((g) => g.delivery)).size).toBe(2);
    expect(down.got.map((g) => (JSON.parse(g.body) as { type: string }).type)).toEqual([
      'voicemail-started',
      'voicemail-ended',
    ]);
    await until(async () => (await second.pending()) === 0, 'the outbox emptied', 15_000, 10);
    await second.close();
  });

  it("delivers each receiver's events on its own: a failing one is retried, the healthy one is not held back", async () => {
    const healthy = await receiver([]);
    // Fails until the test says otherwise.
    const failing = await receiver(Array.from({ length: 1000 }, () => 500));
    servers.push(healthy.server, failing.server);
    const path = join(mkdtempSync(join(tmpdir(), 'parley-vmhooks-')), 'db.sqlite');
    const of = (id: string, tenant: string) => ({ ...view, id, tenant });
    const eventsOf = (id: string, tenant: string): VoicemailEvent[] => [
      { type: 'voicemail-started', voicemail: of(id, tenant) as unknown as VoicemailView },
      {
        type: 'voicemail-final',
        voicemailId: id,
        utterance: { utterance: 0, text: `first of ${id}`, startMs: 0, endMs: 900 },
      },
      {
        type: 'voicemail-final',
        voicemailId: id,
        utterance: { utterance: 1, text: `second of ${id}`, startMs: 900, endMs: 1800 },
      },
      { type: 'voicemail-ended', voicemail: of(id, tenant) as unknown as VoicemailView },
    ];
    const hooks = new VoicemailWebhooks({
      outbox: new SqliteWebhookOutbox(openDatabase(path, [VOICEMAIL_SCHEMA])),
      target: (tenant) =>
        tenant === 'acme'
          ? { url: healthy.url, partials: true, timeoutMs: 2000 }
          : tenant === 'globex'
            ? // Its own back-off: retried within 30 ms, where the gateway's default would wait a minute.
              { url: failing.url, partials: true, timeoutMs: 2000, maxBackoffMs: 30 }
            : undefined,
      tenantOf: (id) => (id === 'vm-a' ? 'acme' : id === 'vm-g' ? 'globex' : undefined),
      recordingUrl: (id) => `https://gw.example/v1/voicemails/${id}/recording`,
      maxBackoffMs: 60_000,
      logger: createLogger('silent'),
    });
    hooks.start();
    // The failing tenant's events first, so that in one outbox they would be ahead.
    const globex = eventsOf('vm-g', 'globex');
    const acme = eventsOf('vm-a', 'acme');
    for (let i = 0; i < 4; i++) {
      hooks.publish(globex[i]!);
      hooks.publish(acme[i]!);
    }
    await arrived(healthy.got, 4);
    await arrived(failing.got, 3);
    const bodies = (got: Received[]) =>
      got.map((g) => {
        const body = JSON.parse(g.body) as { type: string; utterance?: { text: string } };
        return body.utterance ? `${body.type}:${body.utterance.text}` : body.type;
      });
    expect(bodies(healthy.got)).toEqual([
      'voicemail-started',
      'voicemail-final:first of vm-a',
      'voicemail-final:second of vm-a',
      'voicemail-ended',
    ]);
    expect(JSON.parse(healthy.got[0]!.body)).toMatchObject({ tenant: 'acme' });
    // The failing receiver only ever got its first event, retried with the same delivery id.
    const first = failing.got[0]!.delivery;
    expect(new Set(failing.got.map((g) => g.delivery))).toEqual(new Set([first]));
    expect(failing.got.slice(0, 3).map((g) => g.attempt)).toEqual(['1', '2', '3']);
    expect(new Set(bodies(failing.got))).toEqual(new Set(['voicemail-started']));
    // The healthy lane's last row leaves the outbox when its 200 is back, after the receiver
    // counted the request: wait for it (fresh run f74 read 5 here on a loaded machine).
    await until(
      async () => (await hooks.pending()) === 4,
      "only the failing receiver's 4 left",
      15_000,
      10,
    );

    // It recovers: its events come in order, the first one again with the same id.
    failing.got.length = 0;
    recover(failing);
    await arrived(failing.got, 4);
    await until(async () => (await hooks.pending()) === 0, 'the outbox emptied', 15_000, 10);
    const recovered = failing.got.slice(failing.got.length - 4);
    expect(recovered[0]!.delivery).toBe(first);
    expect(bodies(recovered)).toEqual([
      'voicemail-started',
      'voicemail-final:first of vm-g',
      'voicemail-final:second of vm-g',
      'voicemail-ended',
    ]);
    await hooks.close();
  });

  it('sends an event raised while its lane’s turn was finishing (the turn had found it empty)', async () => {
    const r = await receiver([]);
    servers.push(r.server);
    const sqlite = new SqliteWebhookOutbox(openDatabase(':memory:', [VOICEMAIL_SCHEMA]));
    // As on PostgreSQL, where a turn's answer comes back after a round trip: the turn that
    // found the lane empty answers only once the test has raised the next event.
    let found: () => void = () => undefined;
    const foundEmpty = new Promise<void>((resolve) => (found = resolve));
    let answer: () => void = () => undefined;
    const answered = new Promise<void>((resolve) => (answer = resolve));
    const outbox: WebhookOutbox = {
      shared: false,
      add: (e) => sqlite.add(e),
      lanes: () => sqlite.lanes(),
      pending: () => sqlite.pending(),
      close: () => sqlite.close(),
      turn: async (lane, now, send): Promise<LaneTurn> => {
        const turn = await sqlite.turn(lane, now, send);
        if (turn.kind === 'empty') {
          found();
          await answered;
        }
        return turn;
      },
    };
    const hooks = new VoicemailWebhooks({
      outbox,
      target: () => ({ url: r.url, partials: true, timeoutMs: 2000 }),
      tenantOf: () => 'acme',
      recordingUrl: (id) => `https://gw.example/v1/voicemails/${id}/recording`,
      maxBackoffMs: 20,
      logger: createLogger('silent'),
    });
    hooks.start();
    hooks.publish(events[0]!);
    await foundEmpty;
    hooks.publish(events[3]!);
    answer();
    // No look at the lanes comes (an outbox of its own): only the lane's own turns send it.
    await arrived(r.got, 2);
    expect(r.got.map((g) => (JSON.parse(g.body) as { type: string }).type)).toEqual([
      'voicemail-started',
      'voicemail-ended',
    ]);
    await hooks.close();
  });
});

/** From now on the receiver answers 200 (it still keeps every request). */
function recover(r: { server: Server; got: Received[] }): void {
  r.server.removeAllListeners('request');
  r.server.on('request', (req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.got.push({
        delivery: String(req.headers['x-parley-delivery']),
        attempt: String(req.headers['x-parley-attempt']),
        signature: '',
        body: Buffer.concat(chunks).toString(),
      });
      res.end();
    });
  });
}
