/** HTTPS and SIP over WSS when a certificate is configured (made at test time with openssl). */
import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-tls-'));
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  gw = await startTestGateway({
    config: {
      http: {
        host: '127.0.0.1',
        port: 0,
        tls: { cert: join(dir, 'cert.pem'), key: join(dir, 'key.pem') },
      },
    },
  });
});
afterAll(() => gw.close());

describe('TLS', () => {
  it('serves SIP over WSS and answers an OPTIONS with the secure transport', async () => {
    expect(gw.gateway.sip.ws).toMatch(/^wss:\/\//);
    const ws = new WebSocket(gw.gateway.sip.ws, 'sip', { rejectUnauthorized: false });
    await new Promise((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const reply = new Promise<string>((resolve) =>
      ws.once('message', (d) => resolve(d.toString())),
    );
    ws.send(
      [
        'OPTIONS sip:parley.test SIP/2.0',
        'Via: SIP/2.0/WSS abc.invalid;branch=z9hG4bK-tls-1',
        'From: <sip:probe@abc.invalid>;tag=t1',
        'To: <sip:parley.test>',
        'Call-ID: tls-1',
        'CSeq: 1 OPTIONS',
        'Max-Forwards: 70',
        'Content-Length: 0',
        '',
        '',
      ].join('\r\n'),
    );
    const text = await reply;
    expect(text).toMatch(/^SIP\/2\.0 200 OK/);
    expect(text).toMatch(
      /Via: SIP\/2\.0\/WSS abc\.invalid;branch=z9hG4bK-tls-1;received=127\.0\.0\.1/,
    );
    ws.close();
  });

  it('publishes its client settings over HTTPS', async () => {
    const previous = process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
    process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = '0';
    try {
      const body = (await (
        await fetch(`${gw.gateway.httpUrl}/.well-known/parley-gateway.json`)
      ).json()) as { sip: { webSocket: string; domain: string } };
      expect(body.sip.webSocket).toMatch(/^wss:\/\/127\.0\.0\.1:\d+\/sip$/);
      expect(body.sip.domain).toBe('parley.test');
    } finally {
      if (previous === undefined) delete process.env['NODE_TLS_REJECT_UNAUTHORIZED'];
      else process.env['NODE_TLS_REJECT_UNAUTHORIZED'] = previous;
    }
  });
});
