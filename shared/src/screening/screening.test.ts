import { beforeAll, describe, expect, it, vi } from 'vitest';
import { ERROR_CODES, ParleyError } from '../errors/index.js';
import {
  ConfiguredTenantKeys,
  MemoryReplayStore,
  createCallTokenIssuer,
  createCallTokenVerifier,
  type CallTokenIssuer,
} from '../tokens/index.js';
import { makeTestKeys, type TestKeys } from '../tokens/test-keys.js';
import {
  MemoryScreeningStore,
  createScreening,
  type ScreeningDecision,
  type ScreeningOptions,
  type ScreeningRefused,
  type ScreeningRequest,
} from './index.js';

const ISS = 'acme';
const AUD = 'gw.parley.test';
const ORIGIN = 'https://shop.acme.test';
/** Monday 2026-01-05 10:00 in Berlin. */
const T0 = Date.parse('2026-01-05T09:00:00Z');

let keys: TestKeys;
let issuer: CallTokenIssuer;
let clock = T0;
const now = () => clock;

beforeAll(async () => {
  keys = await makeTestKeys('ES256');
  issuer = await createCallTokenIssuer({
    issuer: ISS,
    audience: AUD,
    signingKey: keys.tenant.privateJwk,
    encryptionKey: keys.gateway.publicJwk,
    now,
  });
});

function screeningWith(options: Partial<ScreeningOptions> = {}) {
  clock = T0;
  return createScreening({ issuer, queues: ['sales', 'support'], now, ...options });
}

function request(overrides: Partial<ScreeningRequest> = {}): ScreeningRequest {
  return { ip: '203.0.113.7', origin: ORIGIN, sessionId: 'sess-1', queue: 'sales', ...overrides };
}

/** The decision's code, or 'ok'. */
function codeOf(decision: ScreeningDecision): string {
  return decision.ok ? 'ok' : decision.code;
}

function expectRefusal(
  decision: ScreeningDecision,
  code: keyof typeof ERROR_CODES,
): ScreeningRefused {
  if (decision.ok) throw new Error(`expected ${code}, got a token`);
  expect(decision.code).toBe(code);
  expect(decision.status).toBe(ERROR_CODES[code].http);
  return decision;
}

describe('screening: issuing', () => {
  it('issues a token for queue:<name>, the session as subject and the normalised origin', async () => {
    const screening = screeningWith();
    const decision = await screening.screen(
      request({ origin: 'https://SHOP.acme.test:443', privateClaims: { customerId: 'C-1' } }),
    );
    if (!decision.ok) throw new Error(`refused: ${decision.code}`);
    expect(decision.claims).toMatchObject({
      iss: ISS,
      aud: AUD,
      sub: 'sess-1',
      scope: 'queue:sales',
      origin: ORIGIN,
    });
    expect(decision.expiresAt.getTime()).toBe(decision.claims.exp * 1000);

    const verifier = await createCallTokenVerifier({
      audience: AUD,
      tenantKeys: new ConfiguredTenantKeys({ [ISS]: { jwks: [keys.tenant.publicJwk] } }),
      decryptionKeys: [keys.gateway.privateJwk],
      replayStore: new MemoryReplayStore({ now }),
      now,
    });
    const verified = await verifier.verify(decision.token, {
      origin: ORIGIN,
      requiredScope: 'queue:sales',
    });
    expect(verified.claims.jti).toBe(decision.claims.jti);
    expect(verified.privateClaims).toEqual({ customerId: 'C-1' });
  });

  it('uses a queue’s own scope and lifetime', async () => {
    const screening = screeningWith({
      queues: { vip: { scope: 'queue:sales listing:42', ttlSeconds: 30 } },
      ttlSeconds: 120,
    });
    const decision = await screening.screen(request({ queue: 'vip' }));
    if (!decision.ok) throw new Error(`refused: ${decision.code}`);
    expect(decision.claims.scope).toBe('queue:sales listing:42');
    expect(decision.claims.exp - decision.claims.iat).toBe(30);
  });

  it('applies the screening’s ttlSeconds to queues without their own', async () => {
    const decision = await screeningWith({ ttlSeconds: 120 }).screen(request());
    expect(decision.ok && decision.claims.exp - decision.claims.iat).toBe(120);
  });
});

describe('screening: origin allowlist', () => {
  const allowedOrigins = ['https://shop.acme.test/', 'https://www.acme.test:8443'];

  it('refuses an origin not on the list', async () => {
    const screening = screeningWith({ allowedOrigins });
    const refused = expectRefusal(
      await screening.screen(request({ origin: 'https://evil.test' })),
      'origin_not_allowed',
    );
    expect(refused.detail).toContain('https://evil.test');
    expectRefusal(
      await screening.screen(request({ origin: 'http://shop.acme.test' })),
      'origin_not_allowed',
    );
    expectRefusal(await screening.screen(request({ origin: 'null' })), 'origin_not_allowed');
  });

  it('lets listed origins through after normalisation', async () => {
    const screening = screeningWith({ allowedOrigins });
    expect(codeOf(await screening.screen(request({ origin: 'https://Shop.Acme.Test' })))).toBe(
      'ok',
    );
    expect(codeOf(await screening.screen(request({ origin: 'https://www.acme.test:8443' })))).toBe(
      'ok',
    );
  });

  it('refuses a missing Origin unless allowMissingOrigin, then names the default origin', async () => {
    expectRefusal(
      await screeningWith({ allowedOrigins }).screen(request({ origin: undefined })),
      'origin_not_allowed',
    );
    const first = await screeningWith({ allowedOrigins, allowMissingOrigin: true }).screen(
      request({ origin: undefined }),
    );
    expect(first.ok && first.claims.origin).toBe('https://shop.acme.test');
    const chosen = await screeningWith({
      allowMissingOrigin: true,
      defaultOrigin: 'https://app.acme.test',
    }).screen(request({ origin: undefined }));
    expect(chosen.ok && chosen.claims.origin).toBe('https://app.acme.test');
  });

  it('without a list, takes any http(s) origin but nothing else', async () => {
    const screening = screeningWith();
    expect(codeOf(await screening.screen(request({ origin: 'https://any.test' })))).toBe('ok');
    expectRefusal(
      await screening.screen(request({ origin: 'file:///etc/passwd' })),
      'origin_not_allowed',
    );
    expectRefusal(await screening.screen(request({ origin: undefined })), 'origin_not_allowed');
  });
});

describe('screening: IP blocklist', () => {
  const blocklist = { ips: ['198.51.100.0/24', '192.0.2.1', '2001:db8:bad::/48'] };

  it.each([
    ['an IPv4 address in a CIDR', '198.51.100.77'],
    ['a listed IPv4 address', '192.0.2.1'],
    ['an IPv6 address in a CIDR', '2001:db8:bad:1::5'],
    ['an IPv4-mapped IPv6 address in an IPv4 CIDR', '::ffff:198.51.100.77'],
  ])('refuses %s', async (_name, ip) => {
    const refused = expectRefusal(
      await screeningWith({ blocklist }).screen(request({ ip })),
      'blocked',
    );
    expect(refused.detail).toMatch(/matches/);
  });

  it.each(['198.51.101.1', '192.0.2.2', '2001:db8:bad0::1', '::ffff:192.0.2.2'])(
    'lets %s through',
    async (ip) => {
      expect(codeOf(await screeningWith({ blocklist }).screen(request({ ip })))).toBe('ok');
    },
  );
});

describe('screening: per-IP rate limit', () => {
  it('refuses past max per window with retryAfterSeconds, and allows again later', async () => {
    const screening = screeningWith({ rateLimit: { perIp: { max: 2, windowSeconds: 60 } } });
    expect(codeOf(await screening.screen(request()))).toBe('ok');
    clock += 10_000;
    expect(codeOf(await screening.screen(request({ sessionId: 'sess-2' })))).toBe('ok');
    clock += 5_000;
    const refused = expectRefusal(
      await screening.screen(request({ sessionId: 'sess-3' })),
      'rate_limited',
    );
    expect(refused.retryAfterSeconds).toBe(45);
    expect(codeOf(await screening.screen(request({ ip: '203.0.113.8' })))).toBe('ok');
    clock += 45_000;
    expect(codeOf(await screening.screen(request()))).toBe('ok');
  });

  it('counts IPv4-mapped IPv6 as the IPv4 address, and IPv6 per /64', async () => {
    const screening = screeningWith({ rateLimit: { perIp: { max: 1, windowSeconds: 60 } } });
    expect(codeOf(await screening.screen(request({ ip: '203.0.113.7' })))).toBe('ok');
    expectRefusal(await screening.screen(request({ ip: '::ffff:203.0.113.7' })), 'rate_limited');
    expect(codeOf(await screening.screen(request({ ip: '2001:db8:1:2::1' })))).toBe('ok');
    expectRefusal(await screening.screen(request({ ip: '2001:db8:1:2:ffff::9' })), 'rate_limited');
    expect(codeOf(await screening.screen(request({ ip: '2001:db8:1:3::1' })))).toBe('ok');
  });

  it('counts single IPv6 addresses with ipv6PrefixLength 128', async () => {
    const screening = screeningWith({
      rateLimit: { perIp: { max: 1, windowSeconds: 60, ipv6PrefixLength: 128 } },
    });
    expect(codeOf(await screening.screen(request({ ip: '2001:db8::1' })))).toBe('ok');
    expect(codeOf(await screening.screen(request({ ip: '2001:db8::2' })))).toBe('ok');
    expectRefusal(await screening.screen(request({ ip: '2001:db8::1' })), 'rate_limited');
  });
});

describe('screening: session required', () => {
  it.each([undefined, ''])('refuses sessionId %j', async (sessionId) => {
    expectRefusal(await screeningWith().screen(request({ sessionId })), 'session_required');
  });
});

describe('screening: session blocklist', () => {
  it('refuses a listed session id and lets others through', async () => {
    const screening = screeningWith({ blocklist: { sessionIds: ['sess-bad'] } });
    expectRefusal(await screening.screen(request({ sessionId: 'sess-bad' })), 'blocked');
    expect(codeOf(await screening.screen(request()))).toBe('ok');
  });

  it('asks isBlocked with the address and the session', async () => {
    const isBlocked = vi.fn(
      async ({ ip, sessionId }: { ip: string; sessionId: string }) =>
        ip === '203.0.113.66' || sessionId === 'sess-dyn',
    );
    const screening = screeningWith({ blocklist: { isBlocked } });
    expectRefusal(await screening.screen(request({ ip: '203.0.113.66' })), 'blocked');
    expectRefusal(await screening.screen(request({ sessionId: 'sess-dyn' })), 'blocked');
    expect(codeOf(await screening.screen(request()))).toBe('ok');
    expect(isBlocked).toHaveBeenLastCalledWith({ ip: '203.0.113.7', sessionId: 'sess-1' });
  });

  it('lets an isBlocked failure reject (the company’s own dependency failed)', async () => {
    const screening = screeningWith({
      blocklist: { isBlocked: () => Promise.reject(new Error('db down')) },
    });
    await expect(screening.screen(request())).rejects.toThrow('db down');
  });
});

describe('screening: per-session rate limit', () => {
  it('counts one session across addresses', async () => {
    const screening = screeningWith({ rateLimit: { perSession: { max: 2, windowSeconds: 30 } } });
    expect(codeOf(await screening.screen(request({ ip: '203.0.113.1' })))).toBe('ok');
    expect(codeOf(await screening.screen(request({ ip: '203.0.113.2' })))).toBe('ok');
    const refused = expectRefusal(
      await screening.screen(request({ ip: '203.0.113.3' })),
      'rate_limited',
    );
    expect(refused.retryAfterSeconds).toBe(30);
    expect(codeOf(await screening.screen(request({ sessionId: 'sess-2' })))).toBe('ok');
  });
});

describe('screening: queue known', () => {
  it.each(['nope', '__proto__', 'constructor', 'toString', 'SALES'])(
    'refuses queue %j',
    async (queue) => {
      expectRefusal(await screeningWith().screen(request({ queue })), 'unknown_queue');
    },
  );

  it('accepts each configured queue', async () => {
    expect(codeOf(await screeningWith().screen(request({ queue: 'support' })))).toBe('ok');
  });
});

describe('screening: business hours', () => {
  const queues = {
    sales: { businessHours: { timeZone: 'Europe/Berlin', weekly: { mon: [['09:00', '17:30']] } } },
  } satisfies ScreeningOptions['queues'];

  it('refuses outside the hours and names the local time in the detail', async () => {
    const screening = screeningWith({ queues });
    clock = Date.parse('2026-01-05T16:30:00Z'); // Mon 17:30 in Berlin
    const refused = expectRefusal(await screening.screen(request()), 'outside_business_hours');
    expect(refused.detail).toContain('mon 2026-01-05 17:30 Europe/Berlin');
  });

  it('lets calls through inside the hours', async () => {
    const screening = screeningWith({ queues });
    clock = Date.parse('2026-01-05T16:29:00Z');
    expect(codeOf(await screening.screen(request()))).toBe('ok');
  });

  it('follows daylight saving time (America/New_York, 2026-03-08)', async () => {
    const screening = screeningWith({
      queues: {
        sales: {
          businessHours: { timeZone: 'America/New_York', weekly: { sun: [['09:00', '17:00']] } },
        },
      },
    });
    clock = Date.parse('2026-03-08T12:30:00Z'); // 08:30 EDT (would be 07:30 EST)
    expectRefusal(await screening.screen(request()), 'outside_business_hours');
    clock = Date.parse('2026-03-08T13:00:00Z'); // 09:00 EDT
    expect(codeOf(await screening.screen(request()))).toBe('ok');
  });
});

describe('screening: outstanding tokens per session', () => {
  it('caps unexpired tokens and frees a slot when one expires', async () => {
    const screening = screeningWith({ maxOutstandingPerSession: 2, ttlSeconds: 60 });
    expect(codeOf(await screening.screen(request()))).toBe('ok');
    clock += 20_000;
    expect(codeOf(await screening.screen(request()))).toBe('ok');
    const refused = expectRefusal(await screening.screen(request()), 'too_many_outstanding');
    expect(refused.retryAfterSeconds).toBe(40);
    expect(codeOf(await screening.screen(request({ sessionId: 'sess-2' })))).toBe('ok');
    clock += 40_000;
    expect(codeOf(await screening.screen(request()))).toBe('ok');
  });

  it('counts the real lifetime when the issuer picks it', async () => {
    // No ttlSeconds: the slot is taken for 300 s, then narrowed to the issuer's 60 s.
    const screening = screeningWith({ maxOutstandingPerSession: 1 });
    expect(codeOf(await screening.screen(request()))).toBe('ok');
    clock += 59_000;
    expectRefusal(await screening.screen(request()), 'too_many_outstanding');
    clock += 1_000;
    expect(codeOf(await screening.screen(request()))).toBe('ok');
  });

  it('gives the slot back when issuing fails', async () => {
    let fail = true;
    const flaky: CallTokenIssuer = {
      issue: (params) => (fail ? Promise.reject(new Error('hsm down')) : issuer.issue(params)),
    };
    const screening = screeningWith({ issuer: flaky, maxOutstandingPerSession: 1 });
    await expect(screening.screen(request())).rejects.toThrow('hsm down');
    fail = false;
    expect(codeOf(await screening.screen(request()))).toBe('ok');
  });
});

describe('screening: order of the rules', () => {
  const everything: Partial<ScreeningOptions> = {
    allowedOrigins: [ORIGIN],
    blocklist: { ips: ['198.51.100.0/24'], sessionIds: ['sess-bad'] },
    rateLimit: { perIp: { max: 1, windowSeconds: 60 }, perSession: { max: 1, windowSeconds: 60 } },
    queues: {
      sales: { businessHours: { timeZone: 'UTC', weekly: { sun: [['09:00', '10:00']] } } },
      open: {},
    },
  };

  it('answers the first rule that refuses', async () => {
    const screening = screeningWith(everything);
    const worst = request({
      origin: 'https://evil.test',
      ip: '198.51.100.1',
      sessionId: 'sess-bad',
      queue: 'nope',
    });
    expect(codeOf(await screening.screen(worst))).toBe('origin_not_allowed');
    expect(codeOf(await screening.screen({ ...worst, origin: ORIGIN }))).toBe('blocked');
    const fresh = { ...worst, origin: ORIGIN, ip: '203.0.113.50' };
    expect(codeOf(await screening.screen({ ...fresh, sessionId: undefined }))).toBe(
      'session_required',
    );
    // That attempt used up the address's one request.
    expect(codeOf(await screening.screen(fresh))).toBe('rate_limited');
    const next = { ...fresh, ip: '203.0.113.51' };
    expect(codeOf(await screening.screen(next))).toBe('blocked');
    expect(codeOf(await screening.screen({ ...next, ip: '203.0.113.52', sessionId: 's' }))).toBe(
      'unknown_queue',
    );
    expect(codeOf(await screening.screen({ ...next, ip: '203.0.113.53', sessionId: 's' }))).toBe(
      'rate_limited',
    );
    expect(
      codeOf(
        await screening.screen({ ...next, ip: '203.0.113.54', sessionId: 't', queue: 'sales' }),
      ),
    ).toBe('outside_business_hours');
    expect(
      codeOf(
        await screening.screen({ ...next, ip: '203.0.113.55', sessionId: 'u', queue: 'open' }),
      ),
    ).toBe('ok');
  });
});

describe('screening: bad input', () => {
  it.each<[string, unknown]>([
    ['null', null],
    ['a string', 'sales'],
    ['no ip', { origin: ORIGIN, sessionId: 's', queue: 'sales' }],
    ['a host name as ip', { ...request(), ip: 'localhost' }],
    ['a number as origin', { ...request(), origin: 42 }],
    ['an object as sessionId', { ...request(), sessionId: {} }],
    ['no queue', { ...request(), queue: undefined }],
    ['an empty queue', { ...request(), queue: '' }],
    ['a number as queue', { ...request(), queue: 7 }],
    ['a very long queue', { ...request(), queue: 'q'.repeat(201) }],
    ['an array as privateClaims', { ...request(), privateClaims: [1] }],
  ])('answers bad_request for %s, without throwing', async (_name, input) => {
    const decision = await screeningWith().screen(input as ScreeningRequest);
    expectRefusal(decision, 'bad_request');
  });
});

describe('screening: onDecision', () => {
  it('is told every decision with its request', async () => {
    const onDecision = vi.fn();
    const screening = screeningWith({ onDecision });
    const ok = await screening.screen(request());
    const refused = await screening.screen(request({ queue: 'nope' }));
    expect(onDecision.mock.calls).toEqual([
      [ok, request()],
      [refused, request({ queue: 'nope' })],
    ]);
  });

  it('cannot break a decision by throwing or rejecting', async () => {
    const throwing = screeningWith({
      onDecision: () => {
        throw new Error('log down');
      },
    });
    expect(codeOf(await throwing.screen(request()))).toBe('ok');
    const rejecting = screeningWith({
      onDecision: (() => Promise.reject(new Error('log down'))) as () => void,
    });
    expect(codeOf(await rejecting.screen(request()))).toBe('ok');
  });
});

describe('screening: store', () => {
  it('keeps its state in the given store', async () => {
    const store = new MemoryScreeningStore();
    const hit = vi.spyOn(store, 'hit');
    const reserve = vi.spyOn(store, 'reserve');
    const screening = screeningWith({
      store,
      rateLimit: {
        perIp: { max: 5, windowSeconds: 10 },
        perSession: { max: 5, windowSeconds: 10 },
      },
      maxOutstandingPerSession: 3,
    });
    expect(codeOf(await screening.screen(request()))).toBe('ok');
    expect(hit.mock.calls.map(([key]) => key)).toEqual([
      'rate:ip:203.0.113.7',
      'rate:session:sess-1',
    ]);
    expect(reserve.mock.calls.map(([key]) => key)).toEqual([
      'outstanding:sess-1',
      'outstanding:sess-1',
    ]);
    expect(store.size).toBe(3);
  });
});

describe('screening: options are validated at creation', () => {
  const cases: [string, Partial<ScreeningOptions>, RegExp][] = [
    ['no issuer', { issuer: undefined as unknown as CallTokenIssuer }, /issuer must be/],
    ['no queues', { queues: [] }, /at least one queue/],
    ['a queue name with a space', { queues: ['sales team'] }, /queue name/],
    ['a bad scope', { queues: { sales: { scope: 'everything' } } }, /queues\.sales\.scope/],
    [
      'a bad time zone',
      { queues: { sales: { businessHours: { timeZone: 'Mars/Olympus', weekly: {} } } } },
      /queues\.sales\.businessHours\.timeZone.*Mars\/Olympus/,
    ],
    [
      'a range crossing midnight',
      {
        queues: {
          sales: { businessHours: { timeZone: 'UTC', weekly: { fri: [['22:00', '02:00']] } } },
        },
      },
      /cross midnight/,
    ],
    ['a bad CIDR', { blocklist: { ips: ['10.0.0.0/40'] } }, /blocklist\.ips\[0\].*prefix length/],
    ['a bad address', { blocklist: { ips: ['10.0.0.256'] } }, /blocklist\.ips\[0\]/],
    ['a bad origin', { allowedOrigins: ['shop.acme.test'] }, /allowedOrigins\[0\]/],
    [
      'an origin with a path',
      { allowedOrigins: ['https://shop.acme.test/shop'] },
      /allowedOrigins\[0\]/,
    ],
    ['allowMissingOrigin without an origin', { allowMissingOrigin: true }, /defaultOrigin/],
    [
      'a zero rate',
      { rateLimit: { perIp: { max: 0, windowSeconds: 1 } } },
      /rateLimit\.perIp\.max/,
    ],
    [
      'a negative window',
      { rateLimit: { perSession: { max: 1, windowSeconds: -1 } } },
      /windowSeconds/,
    ],
    [
      'a bad IPv6 prefix',
      { rateLimit: { perIp: { max: 1, windowSeconds: 1, ipv6PrefixLength: 0 } } },
      /ipv6PrefixLength/,
    ],
    ['a fractional cap', { maxOutstandingPerSession: 1.5 }, /maxOutstandingPerSession/],
    ['a long lifetime', { ttlSeconds: 301 }, /ttlSeconds/],
    ['an empty blocked session', { blocklist: { sessionIds: [''] } }, /blocklist\.sessionIds\[0\]/],
  ];
  it.each(cases)('refuses %s with invalid_config', (_name, options, message) => {
    let error: unknown;
    try {
      screeningWith(options);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ParleyError);
    expect((error as ParleyError).code).toBe('invalid_config');
    expect((error as ParleyError).message).toMatch(message);
  });
});
