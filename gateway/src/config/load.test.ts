import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateEncryptionKeyPair, generateSigningKeyPair } from '@parley/shared/tokens';
import { describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

async function validInput() {
  const gateway = await generateEncryptionKeyPair();
  const tenant = await generateSigningKeyPair();
  return {
    gatewayId: 'gw',
    tokens: { encryptionKeys: [gateway.privateJwk] },
    tenants: { acme: { jwks: [tenant.publicJwk] } },
  };
}

describe('loadConfig', () => {
  it('fills defaults and freezes the result', async () => {
    const config = loadConfig({ input: await validInput() });
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 8080, trustProxy: [] });
    expect(config.tokens.clockToleranceSeconds).toBe(5);
    expect(Object.isFrozen(config.http)).toBe(true);
  });

  it('reads key files relative to the config file and applies environment overrides', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
    const input = await validInput();
    writeFileSync(join(dir, 'gw.private.jwk.json'), JSON.stringify(input.tokens.encryptionKeys[0]));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ ...input, tokens: { encryptionKeys: ['gw.private.jwk.json'] } }),
    );
    const config = loadConfig({
      file: join(dir, 'config.json'),
      env: { PARLEY_HTTP_PORT: '9999', PARLEY_LOG_LEVEL: 'warn' },
    });
    expect(config.tokens.encryptionKeys[0]?.kid).toBe(input.tokens.encryptionKeys[0]?.kid);
    expect(config.http.port).toBe(9999);
    expect(config.log.level).toBe('warn');
  });

  it('takes the media engine (auto by default, from PARLEY_MEDIA_ENGINE too), or a module relative to the config file', async () => {
    expect(loadConfig({ input: await validInput() }).media.engine).toBe('auto');
    const chosen = loadConfig({
      input: await validInput(),
      env: { PARLEY_MEDIA_ENGINE: 'relay' },
    });
    expect(chosen.media.engine).toBe('relay');
    const input = await validInput();
    expect(() => loadConfig({ input, env: { PARLEY_MEDIA_ENGINE: 'janus' } })).toThrow(
      /media\.engine/,
    );
    const dir = mkdtempSync(join(tmpdir(), 'parley-config-'));
    writeFileSync(
      join(dir, 'config.json'),
      JSON.stringify({ ...(await validInput()), media: { engine: { module: 'engines/ms.js' } } }),
    );
    const config = loadConfig({ file: join(dir, 'config.json') });
    expect(config.media.engine).toEqual({ module: join(dir, 'engines/ms.js') });
    const bad = { ...(await validInput()), media: { engine: 'janus' } };
    expect(() => loadConfig({ input: bad })).toThrow(/media\.engine/);
    const worker = loadConfig({
      file: join(dir, 'config.json'),
      input: { media: { mediasoup: { workerBin: 'bin/mediasoup-worker', workers: 3 } } },
    });
    expect(worker.media.mediasoup).toMatchObject({
      workerBin: join(dir, 'bin/mediasoup-worker'),
      workers: 3,
      statsIntervalSeconds: 5,
    });
    expect(() => loadConfig({ input: { ...input, media: { mediasoup: { workers: 0 } } } })).toThrow(
      /media\.mediasoup\.workers/,
    );
  });

  it('takes a TURN server whose secret may come from the environment, and refuses relay-only ICE without one', async () => {
    const turn = { urls: ['turn:turn.example:3478?transport=udp'], secret: 'x'.repeat(16) };
    const config = loadConfig({
      input: { ...(await validInput()), media: { turn, iceTransportPolicy: 'relay' } },
      env: { PARLEY_TURN_SECRET: 'from-the-environment-0123' },
    });
    expect(config.media.turn).toEqual({
      urls: turn.urls,
      secret: 'from-the-environment-0123',
      ttlSeconds: 3600,
    });
    expect(config.media.iceTransportPolicy).toBe('relay');
    expect(loadConfig({ input: await validInput() }).media.iceTransportPolicy).toBe('all');
    // A static TURN server is enough for relay-only.
    const staticTurn = { iceServers: [{ urls: ['turn:t.example'] }], iceTransportPolicy: 'relay' };
    expect(
      loadConfig({ input: { ...(await validInput()), media: staticTurn } }).media
        .iceTransportPolicy,
    ).toBe('relay');
    const relayOnly = { ...(await validInput()), media: { iceTransportPolicy: 'relay' } };
    expect(() => loadConfig({ input: relayOnly })).toThrow(
      /media\.iceTransportPolicy: iceTransportPolicy "relay" needs a TURN server/,
    );
    const bad = {
      ...(await validInput()),
      media: { turn: { urls: ['stun:x.example'], secret: 'short', ttlSeconds: 10 } },
    };
    const attempt = () => loadConfig({ input: bad });
    expect(attempt).toThrow(/media\.turn\.urls\.0: a turn: or turns: URL/);
    expect(attempt).toThrow(/media\.turn\.secret/);
    expect(attempt).toThrow(/media\.turn\.ttlSeconds/);
    const ports = {
      ...(await validInput()),
      media: { webrtcPortMin: 41000, webrtcPortMax: 41000 },
    };
    expect(() => loadConfig({ input: ports })).toThrow(
      /media\.webrtcPortMax: webrtcPortMin must be below webrtcPortMax/,
    );
    const overlap = {
      ...(await validInput()),
      media: { portMin: 20000, portMax: 20999, webrtcPortMin: 20900, webrtcPortMax: 21999 },
    };
    expect(() => loadConfig({ input: overlap })).toThrow(
      /media\.webrtcPortMin: the WebRTC port range \(webrtcPortMin–webrtcPortMax\) overlaps portMin–portMax/,
    );
    // A secret in the environment for a TURN server the config does not name.
    const input = await validInput();
    expect(() => loadConfig({ input, env: { PARLEY_TURN_SECRET: 'x'.repeat(20) } })).toThrow(
      /PARLEY_TURN_SECRET is set but media\.turn is not/,
    );
  });

  it('gives an API key every scope unless it names some, and refuses unknown ones', async () => {
    const keys = [
      { id: 'all', key: 'a'.repeat(16) },
      { id: 'mint', key: 'b'.repeat(16), tenant: 'acme', scopes: ['ice-servers'] },
    ];
    const config = loadConfig({ input: { ...(await validInput()), api: { keys } } });
    expect(config.api.keys.map((k) => k.scopes)).toEqual([
      [
        'read',
        'agents',
        'messages',
        'ice-servers',
        'marketplace',
        'call-entries',
        'gated',
        'callbacks',
        'voicemails',
      ],
      ['ice-servers'],
    ]);
    const bad = { ...(await validInput()), api: { keys: [{ ...keys[0], scopes: ['root'] }] } };
    expect(() => loadConfig({ input: bad })).toThrow(/api\.keys\.0\.scopes\.0/);
    const none = { ...(await validInput()), api: { keys: [{ ...keys[0], scopes: [] }] } };
    expect(() => loadConfig({ input: none })).toThrow(/api\.keys\.0\.scopes/);
  });

  it('lists every problem with its path', async () => {
    const input = await validInput();
    const attempt = () =>
      loadConfig({
        input: {
          ...input,
          gatewayId: '',
          http: { port: 70000 },
          tenants: { acme: { jwks: [input.tokens.encryptionKeys[0]] } },
          bogus: 1,
        },
      });
    expect(attempt).toThrowError(/gatewayId/);
    expect(attempt).toThrowError(/http\.port/);
    expect(attempt).toThrowError(/bogus/);
  });

  it('checks the marketplace: known tenants, a real time zone, tracking pools that do not overlap', async () => {
    const input = await validInput();
    const tenants = { ...input.tenants, globex: input.tenants.acme };
    const attempt = () =>
      loadConfig({
        input: {
          ...input,
          tenants,
          marketplace: {
            timeZone: 'Mars/Olympus',
            tenants: {
              nowhere: {},
              acme: { trackingNumbers: { ranges: [{ from: '+14155550100', to: '+14155550109' }] } },
              globex: { trackingNumbers: { numbers: ['+14155550105'] } },
            },
          },
        },
      });
    expect(attempt).toThrowError(/marketplace\.timeZone: no time zone "Mars\/Olympus"/);
    expect(attempt).toThrowError(/marketplace\.tenants\.nowhere: no tenant/);
    expect(attempt).toThrowError(/\+14155550105 is also in the pool of acme/);
  });

  it('refuses a public key where the private one is needed, and a private key where a public one is', async () => {
    const input = await validInput();
    const gatewayPublic = (await generateEncryptionKeyPair()).publicJwk;
    const tenantPrivate = (await generateSigningKeyPair()).privateJwk;
    expect(() =>
      loadConfig({ input: { ...input, tokens: { encryptionKeys: [gatewayPublic] } } }),
    ).toThrowError(/must be a private key/);
    expect(() =>
      loadConfig({ input: { ...input, tenants: { acme: { jwks: [tenantPrivate] } } } }),
    ).toThrowError(/private key/);
  });

  it('says which file it could not read', () => {
    expect(() => loadConfig({ file: '/nonexistent/parley.json' })).toThrowError(
      /cannot read config file \/nonexistent\/parley.json/,
    );
  });

  it('reads a trunk password from the environment and fills the trunk defaults', async () => {
    const input = {
      ...(await validInput()),
      flows: { main: [{ verb: 'hangup' }] },
      trunks: {
        carrier: {
          peers: [{ host: '192.0.2.10' }],
          auth: { username: 'u', passwordEnv: 'CARRIER_PASSWORD' },
          inbound: { numbers: [{ number: '+14155550100', tenant: 'acme', flow: 'main' }] },
        },
      },
    };
    const config = loadConfig({ input, env: { CARRIER_PASSWORD: 'from-env' } });
    const trunk = config.trunks['carrier'];
    expect(trunk?.auth?.password).toBe('from-env');
    expect(trunk?.peers[0]).toEqual({
      host: '192.0.2.10',
      port: 5060,
      transport: 'udp',
      priority: 10,
      weight: 1,
    });
    expect(trunk?.keepAlive).toEqual({
      intervalSeconds: 30,
      timeoutMs: 2000,
      failuresBeforeDown: 2,
    });
    expect(trunk?.codecs).toEqual(['PCMU', 'PCMA']);
    expect(() => loadConfig({ input })).toThrow(/CARRIER_PASSWORD is not set/);
  });

  it('lists every trunk and caller-number problem', async () => {
    const input = {
      ...(await validInput()),
      tenants: {
        acme: {
          ...(await validInput()).tenants.acme,
          callerNumbers: [{ from: '+15550150', to: '+15550160' }],
        },
      },
      trunks: {
        carrier: {
          peers: [{ host: '192.0.2.10' }],
          inbound: {
            allow: ['10.0.0.0/33'],
            numbers: [
              { number: '+14155550100', tenant: 'nobody', flow: 'main' },
              { from: '+14155550199', to: '+14155550100', tenant: 'acme', flow: 'main' },
            ],
          },
          outbound: { tenants: ['ghost'] },
        },
      },
    };
    let message = '';
    try {
      loadConfig({ input });
    } catch (error) {
      message = String((error as { detail?: string }).detail);
    }
    expect(message).toMatch(/tenants\.acme\.callerNumbers: overlaps numbers\.ranges/);
    expect(message).toMatch(/trunks\.carrier\.inbound\.allow: .*prefix/);
    expect(message).toMatch(/trunks\.carrier\.inbound\.numbers\.0\.tenant: no tenant "nobody"/);
    expect(message).toMatch(/trunks\.carrier\.inbound\.numbers\.1: .*wrong order/);
    expect(message).toMatch(/trunks\.carrier\.outbound\.tenants: no tenant "ghost"/);
  });

  it('takes shared Redis settings and PostgreSQL storage (refused without its settings)', async () => {
    const input = await validInput();
    const config = loadConfig({
      input: { ...input, shared: { instanceId: 'gw-1', redis: { url: 'redis://127.0.0.1:6379' } } },
    });
    expect(config.shared).toMatchObject({
      instanceId: 'gw-1',
      heartbeatSeconds: 2,
      leaseSeconds: 10,
      redis: { keyPrefix: 'parley:', commandTimeoutMs: 500 },
    });
    // A cluster's gateways share gatewayId: each needs its own instanceId.
    expect(() =>
      loadConfig({ input: { ...input, shared: { redis: { url: 'redis://127.0.0.1:6379' } } } }),
    ).toThrow(/shared\.instanceId: give each gateway of a cluster/);
    const pg = { ...input, storage: { kind: 'postgres', postgres: { database: 'parley' } } };
    expect(() => loadConfig({ input: pg })).toThrow(
      /shared\.instanceId: give each gateway on a shared database/,
    );
    const owned = { ...pg, shared: { instanceId: 'gw-a' } };
    expect(loadConfig({ input: owned }).storage).toMatchObject({
      kind: 'postgres',
      postgres: { database: 'parley' },
    });
    expect(() => loadConfig({ input: { ...input, storage: { kind: 'postgres' } } })).toThrow(
      /storage\.postgres: give url or database/,
    );
  });
});
