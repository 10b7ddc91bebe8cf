/**
 * A facility's own authenticating server, as a real HTTP server on loopback:
 * its answers decide; a server that times out, fails or answers garbage never
 * lets a call through (fail closed), unless the tenant says the built-in
 * checks decide then.
 */
import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TENANT, createGatedWorld, gatedConfig, type GatedWorld } from '../testing/world.js';

const SECRET = 'facility-hook-secret-0123';

type Handler = (body: Record<string, unknown>, res: ServerResponse) => void;
let handler: Handler = (_b, res) => res.end('{}');
let server: Server;
let url: string;
const seen: { body: Record<string, unknown>; signatureOk: boolean }[] = [];

function verifySignature(req: IncomingMessage, raw: string): boolean {
  const header = String(req.headers['x-parley-signature'] ?? '');
  const m = /^t=(\d+),v1=([0-9a-f]{64})$/.exec(header);
  if (!m) return false;
  return createHmac('sha256', SECRET).update(`${m[1]}.${raw}`).digest('hex') === m[2];
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      const body = JSON.parse(raw) as Record<string, unknown>;
      seen.push({ body, signatureOk: verifySignature(req, raw) });
      handler(body, res);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/decide`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

let w: GatedWorld;

/**
 * `timeoutMs` is short only where the server is meant to stay silent; where it
 * answers, the limit is generous, so a loaded machine does not turn an answer
 * into a timeout.
 */
async function world(
  onFailure: 'deny' | 'builtin' = 'deny',
  timeoutMs = 5000,
): Promise<GatedWorld> {
  w = await createGatedWorld({
    [TENANT]: gatedConfig({
      authenticator: { kind: 'http', url, secret: SECRET, timeoutMs, onFailure },
    }),
  });
  w.device('cell-12');
  await w.resident('r-1', { pin: '2468', devices: ['cell-12'] });
  await w.account('a-1', { name: 'Grace Hopper', phone: '+14155550123', approve: ['r-1'] });
  return w;
}

const json = (value: unknown) => (_b: Record<string, unknown>, res: ServerResponse) =>
  res.setHeader('content-type', 'application/json').end(JSON.stringify(value));

const authorize = (callId = `c-${Math.random()}`) =>
  w.gate.authorize({ callId, tenant: TENANT, channel: 'phone', callerNumber: '+14155550123' });

afterEach(() => {
  w?.close();
  seen.length = 0;
});

describe('the facility’s authenticating server', () => {
  it('decides: its allow rings the devices it names (when Parley sees them active), signed with the secret', async () => {
    await world();
    handler = json({
      allow: true,
      residentId: 'r-1',
      devices: ['cell-12'],
      callerName: 'G. Hopper',
    });
    const d = await authorize('c-1');
    expect(d).toMatchObject({
      allowed: true,
      decidedBy: 'http',
      residentId: 'r-1',
      callerName: 'G. Hopper',
      devices: [{ address: 'cell-12', kind: 'sip' }],
    });
    expect(seen[0]).toMatchObject({
      signatureOk: true,
      body: { stage: 'authorize', callId: 'c-1', tenant: TENANT, callerNumber: '+14155550123' },
    });
    // An allow for a device that is not registered does not ring it.
    w.presence.setContacts(TENANT, 'cell-12', []);
    expect(await authorize()).toMatchObject({ allowed: false, failed: 'device_active' });
  });

  it('passes a PIN stage on with the PIN, and its refusal counts toward the lockout', async () => {
    await world();
    handler = json({ allow: true, residentId: 'r-1', devices: ['cell-12'] });
    const { callId } = await authorize();
    handler = json({ allow: false, failed: 'resident_pin', detail: 'no match' });
    const wrong = await w.gate.reverify(callId!, { device: 'cell-12', pin: '1111' });
    expect(wrong).toMatchObject({ allowed: false, failed: 'resident_pin', decidedBy: 'http' });
    expect(seen.at(-1)?.body).toMatchObject({
      stage: 'reverify',
      residentId: 'r-1',
      device: 'cell-12',
      pin: '1111',
    });
    expect((await w.store.pinAttempts.get('device:facility/cell-12'))?.failures).toBe(1);
  });

  it.each([
    ['a timeout', (_b: Record<string, unknown>) => undefined, /timeout: no answer in 150 ms/],
    ['HTTP 500', json({ allow: true }), null],
    [
      'not JSON',
      (_b: Record<string, unknown>, res: ServerResponse) => res.end('<html>ok</html>'),
      /not JSON/,
    ],
    ['allow: "yes"', json({ allow: 'yes', residentId: 'r-1', devices: ['cell-12'] }), /allow/],
    [
      'an allow naming no devices',
      json({ allow: true, residentId: 'r-1' }),
      /must name residentId and devices/,
    ],
    ['an array', json([true]), /garbage/],
    [
      'a huge callerName',
      json({ allow: true, residentId: 'r-1', devices: ['cell-12'], callerName: 'x'.repeat(500) }),
      /callerName/,
    ],
  ])(
    'refuses the call on %s (fail closed), and says why in the decision',
    async (_what, answer, detail) => {
      await world('deny', _what === 'a timeout' ? 150 : 5000);
      handler =
        _what === 'HTTP 500'
          ? (_b, res) => res.writeHead(500).end(JSON.stringify({ allow: true }))
          : (answer as Handler);
      const d = await authorize();
      expect(d.allowed).toBe(false);
      expect(d.failed).toBe('authenticator');
      expect(d.outward.kind).toBe('not_available');
      const check = (await w.store.decisions.get(TENANT, d.id))?.checks[0];
      expect(check?.name).toBe('authenticator');
      if (detail) expect(check?.detail).toMatch(detail);
      else expect(check?.detail).toMatch(/HTTP 500/);
      expect(await w.registry.metrics()).toMatch(
        /parley_gated_hook_failures_total\{tenant="facility",reason="\w+"\} 1/,
      );
    },
  );

  it('refuses when nothing listens (connection refused)', async () => {
    w = await createGatedWorld({
      [TENANT]: gatedConfig({
        authenticator: { kind: 'http', url: 'http://127.0.0.1:9/', timeoutMs: 500 },
      }),
    });
    const d = await authorize();
    expect(d).toMatchObject({ allowed: false, failed: 'authenticator' });
    expect(d.checks[0]?.detail).toMatch(/^unreachable/);
  });

  it('counts no wrong PIN when the server fails to answer (a down server locks nobody out)', async () => {
    await world('deny', 150);
    handler = () => undefined;
    for (let i = 0; i < 6; i += 1) {
      const d = await w.gate.authorize({
        callId: `c-pin-${i}`,
        tenant: TENANT,
        channel: 'phone',
        account: { number: '5550001111', pin: '9753' },
      });
      expect(d.failed).toBe('authenticator');
    }
    expect(await w.store.pinAttempts.get('account:facility/#5550001111')).toBeUndefined();
  });

  it('says which built-in check failed after the server did (onFailure: builtin)', async () => {
    await world('builtin', 150);
    handler = () => undefined;
    const d = await w.gate.authorize({
      callId: 'c-unknown',
      tenant: TENANT,
      channel: 'phone',
      callerNumber: '+14155559999',
    });
    expect(d).toMatchObject({
      allowed: false,
      decidedBy: 'builtin-after-http',
      failed: 'caller_account',
    });
    expect(d.checks.map((c) => [c.name, c.ok])).toEqual([
      ['authenticator', false],
      ['caller_account', false],
    ]);
  });

  it('lets the built-in checks decide when the tenant says so (onFailure: builtin)', async () => {
    await world('builtin', 150);
    handler = () => undefined; // never answers
    const d = await authorize();
    expect(d).toMatchObject({ allowed: true, decidedBy: 'builtin-after-http', accountId: 'a-1' });
    expect(d.checks[0]).toMatchObject({ name: 'authenticator', ok: false });
  });
});
