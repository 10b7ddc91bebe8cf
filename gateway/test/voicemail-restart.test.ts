/**
 * A single gateway (SQLite) killed (SIGKILL) while a caller leaves a
 * voicemail: the row stays `recording`, the WAV holds the message up to
 * about its last second. At its next start, on the same SQLite file, the
 * gateway ends that row `left` with `endReason: interrupted`, its duration
 * the WAV's (measured here by sox), and tells the tenant's webhook (a real
 * HTTP server) `voicemail-ended` once. The gateway runs as a child process
 * (`parley-gateway --config`), as in production, so the kill is a real one.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VoicemailView } from '@parley/shared/protocol';
import {
  createCallTokenIssuer,
  generateEncryptionKeyPair,
  generateSigningKeyPair,
  type CallTokenIssuer,
} from '@parley/shared/tokens';
import {
  PortAllocator,
  analyse,
  spawnGateway,
  stopAll,
  until,
  type ManagedProcess,
  type PortBlock,
} from '@parley/testkit';
import { parseWavHeader } from '../src/media/apps/index.js';
import { childGatewayConfig } from './answered-visitor-call.js';
import { VoicemailCaller } from './voicemail-caller.js';
import { startWebhookReceiver, type WebhookReceiver } from './webhook-receiver.js';

const API_KEY = 'voicemail-restart-key-0123456789';
const dir = mkdtempSync(join(tmpdir(), 'parley-vm-restart-'));
const recordings = join(dir, 'recordings');
const configPath = join(dir, 'parley.json');
const ports = new PortAllocator();

let sipPort: PortBlock;
let mediaPorts: PortBlock;
let issuer: CallTokenIssuer;
let gateway: ManagedProcess | undefined;
let httpUrl = '';
let caller: VoicemailCaller;
let hooks: WebhookReceiver;
/** The bodies the tenant's webhook received. */
let received: Record<string, unknown>[] = [];

async function startGateway(): Promise<ManagedProcess> {
  const started = await spawnGateway({ configPath, name: 'parley-vm-restart' });
  httpUrl = started.httpUrl;
  return started.process;
}

beforeAll(async () => {
  const [tenantKeys, gatewayKeys] = await Promise.all([
    generateSigningKeyPair('ES256'),
    generateEncryptionKeyPair(),
  ]);
  hooks = await startWebhookReceiver();
  received = hooks.received;
  const hookUrl = hooks.url;
  sipPort = await ports.allocate(1, { protocols: ['udp'] });
  mediaPorts = await ports.allocate(16, { protocols: ['udp'], even: true });
  writeFileSync(
    configPath,
    childGatewayConfig({
      gatewayId: 'gw-vm-restart',
      gatewayKey: gatewayKeys.privateJwk,
      tenantKey: tenantKeys.publicJwk,
      sipPort: sipPort.base,
      media: mediaPorts,
      extra: {
        api: { keys: [{ id: 'test', key: API_KEY }] },
        storage: { path: join(dir, 'parley.sqlite'), recordingsDir: recordings },
        tenants: {
          acme: {
            name: 'Acme Shop',
            jwks: [tenantKeys.publicJwk],
            voicemail: { webhook: { url: hookUrl } },
          },
        },
        // Nobody of `sales` is signed in: voicemail answers at once; only the kill ends it.
        queues: {
          sales: {
            tenant: 'acme',
            voicemail: {
              greeting: { say: 'Please leave a message.' },
              silenceSeconds: 0,
              maxSeconds: 120,
              transcribe: false,
            },
          },
        },
      },
    }),
  );
  issuer = await createCallTokenIssuer({
    issuer: 'acme',
    audience: 'gw-vm-restart',
    signingKey: tenantKeys.privateJwk,
    encryptionKey: gatewayKeys.publicJwk,
  });
  gateway = await startGateway();
  caller = await VoicemailCaller.open();
}, 90_000);

afterAll(async () => {
  caller?.close();
  await gateway?.stop();
  await hooks?.close();
  await stopAll();
  sipPort?.release();
  mediaPorts?.release();
  rmSync(dir, { recursive: true, force: true });
});

const endedOf = (id: string) =>
  received.filter(
    (b) =>
      b['type'] === 'voicemail-ended' && (b['voicemail'] as { id?: string } | undefined)?.id === id,
  );

describe('a single gateway killed while a caller leaves a voicemail', () => {
  it(
    'ends the row interrupted at its next start, with the WAV’s duration, and tells the webhook once',
    { timeout: 90_000 },
    async () => {
      const { token } = await issuer.issue({
        subject: 'web-session-vm-restart',
        scope: 'queue:sales',
        origin: 'https://shop.acme.test',
      });
      await caller.call(`127.0.0.1:${sipPort.base}`, token);
      caller.say(await VoicemailCaller.tone(440, 10));
      // At least two seconds flushed to the WAV (16-bit mono at 8 kHz), then the kill. Read
      // from its header, not the file's size: a flush writes the samples, then the header, and
      // what the header says is what sox (and the gateway at its next start) takes as the WAV.
      const wav = await until(
        () => {
          const files = readdirSync(join(recordings, 'acme')).filter((f) => f.endsWith('.wav'));
          const path = files[0] && join(recordings, 'acme', files[0]);
          // The file is created empty, its header written with the first flush.
          if (!path || statSync(path).size < 44) return undefined;
          const { dataLength } = parseWavHeader(readFileSync(path).subarray(0, 4096));
          return (dataLength ?? 0) >= 2 * 16_000 ? path : undefined;
        },
        'two seconds of the message in its WAV',
        30_000,
      );
      const id = /voicemail-(.+)\.wav$/.exec(wav)?.[1] ?? '';
      gateway?.signal('SIGKILL');
      expect((await gateway?.exited)?.signal).toBe('SIGKILL');
      const recorded = await analyse(wav);
      expect(recorded.seconds).toBeGreaterThanOrEqual(2);

      gateway = await startGateway();
      const res = await fetch(`${httpUrl}/v1/voicemails/${id}`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(res.status).toBe(200);
      const stored = (await res.json()) as VoicemailView;
      expect(stored).toMatchObject({ id, status: 'left', endReason: 'interrupted' });
      expect(stored.endedAt).not.toBeNull();
      // The duration is what the WAV holds (read from its header at start; sox measures the same).
      expect(Math.abs(stored.durationMs - recorded.seconds * 1000)).toBeLessThan(25);

      const [hook] = await until(
        () => (endedOf(id).length > 0 ? endedOf(id) : undefined),
        'the voicemail-ended webhook from the restarted gateway',
      );
      expect(hook?.['voicemail']).toMatchObject({
        id,
        status: 'left',
        endReason: 'interrupted',
        durationMs: stored.durationMs,
      });
      expect(hook?.['recordingUrl']).toBe(`${httpUrl}/v1/voicemails/${id}/recording`);
      // The WAV is the message's: the company downloads it from the restarted gateway.
      const audio = await fetch(`${httpUrl}/v1/voicemails/${id}/recording`, {
        headers: { authorization: `Bearer ${API_KEY}` },
      });
      expect(audio.status).toBe(200);
      expect(Buffer.from(await audio.arrayBuffer()).length).toBe(statSync(wav).size);
      expect(endedOf(id)).toHaveLength(1);
    },
  );
});
