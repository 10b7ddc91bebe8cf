import { beforeAll, describe, expect, it } from 'vitest';
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
  createScreening,
  type CallbackScreeningOptions,
  type CallbackScreeningRequest,
  type ScreeningDecision,
} from './index.js';

const ISS = 'acme';
const AUD = 'gw.parley.test';
const ORIGIN = 'https://shop.acme.test';
/** Monday 2026-01-05 10:00 in Berlin. */
const T0 = Date.parse('2026-01-05T09:00:00Z');
const HOURS = { timeZone: 'Europe/Berlin', weekly: { mon: [['09:00', '17:00']] as const } };

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

function screeningWith(callbacks: Partial<CallbackScreeningOptions> = {}, perSessionMax = 100) {
  clock = T0;
  return createScreening({
    issuer,
    queues: [],
    now,
    rateLimit: { perSession: { max: perSessionMax, windowSeconds: 60 } },
    callbacks: {
      destinations: { sales: { businessHours: HOURS }, 'listing.ls_1': {} },
      defaultCountry: 'US',
      ...callbacks,
    },
  });
}

function request(overrides: Partial<CallbackScreeningRequest> = {}): CallbackScreeningRequest {
  return {
    ip: '203.0.113.7',
    origin: ORIGIN,
    sessionId: 'sess-1',
    destination: 'sales',
    phone: '(415) 555-0123',
    when: 'now',
    ...overrides,
  };
}

function codeOf(decision: ScreeningDecision): string {
  return decision.ok ? 'ok' : decision.code;
}

describe('callback screening', () => {
  it('issues a callback:<destination> token with the number (E.164) and the time sealed in it', async () => {
    const screening = screeningWith();
    const decision = await screening.screenCallback(
      request({ privateClaims: { customerId: 'C-7' } }),
    );
    if (!decision.ok) throw new Error(decision.code);
    expect(decision.claims.scope).toBe('callback:sales');
    expect(decision.claims.sub).toBe('sess-1');
    const verifier = await createCallTokenVerifier({
      audience: AUD,
      tenantKeys: new ConfiguredTenantKeys({ [ISS]: { jwks: [keys.tenant.publicJwk] } }),
      decryptionKeys: [keys.gateway.privateJwk],
      replayStore: new MemoryReplayStore(),
      now,
    });
    const verified = await verifier.verify(decision.token, { requiredScope: 'callback:sales' });
    expect(verified.privateClaims).toEqual({
      customerId: 'C-7',
      callback: { phone: '+14155550123', when: 'now' },
    });
  });

  it('reads national numbers in the chosen country and international ones as they are', async () => {
    const screening = screeningWith();
    const gb = await screening.screenCallback(
      request({ phone: '020 7946 0000', country: 'GB', sessionId: 's-gb' }),
    );
    const intl = await screening.screenCallback(
      request({ phone: '+44 20 7946 0000', sessionId: 's-intl' }),
    );
    expect(codeOf(gb)).toBe('ok');
    expect(codeOf(intl)).toBe('ok');
  });

  it('refuses what is not a phone number, without issuing', async () => {
    const screening = screeningWith();
    for (const phone of ['hello', '123', '+1 415 555', 'call 415 555 0123', '+99912345678'])
      expect(codeOf(await screening.screenCallback(request({ phone }))), phone).toBe(
        'number_invalid',
      );
    expect(codeOf(await screening.screenCallback(request({ phone: '' })))).toBe('bad_request');
  });

  it('refuses blocked numbers, prefixes, countries and what isBlockedNumber says', async () => {
    const screening = screeningWith({
      blockedNumbers: ['+14155550199', '+1900*'],
      allowedCountries: ['US', 'CA'],
      isBlockedNumber: (n) => n === '+14155550177',
    });
    for (const phone of ['+14155550199', '+19005551234', '+442079460000', '+14155550177'])
      expect(codeOf(await screening.screenCallback(request({ phone }))), phone).toBe(
        'number_blocked',
      );
    expect(ERROR_CODES.number_blocked.http).toBe(403);
  });

  it('limits how often one number may be asked for, whoever asks', async () => {
    const screening = screeningWith({ perNumber: { max: 3, windowSeconds: 3600 } });
    const codes: string[] = [];
    for (let i = 0; i < 100; i += 1)
      codes.push(codeOf(await screening.screenCallback(request({ sessionId: `s-${i}` }))));
    expect(codes.slice(0, 3)).toEqual(['ok', 'ok', 'ok']);
    expect(new Set(codes.slice(3))).toEqual(new Set(['rate_limited']));
    // Another number is not affected.
    expect(
      codeOf(await screening.screenCallback(request({ sessionId: 's-x', phone: '4155550124' }))),
    ).toBe('ok');
  });

  it('limits one visitor asking for many numbers (the per-session rate of calls)', async () => {
    const screening = screeningWith({}, 2);
    const codes = [];
    for (let i = 0; i < 4; i += 1)
      codes.push(codeOf(await screening.screenCallback(request({ phone: `415555012${i}` }))));
    expect(codes).toEqual(['ok', 'ok', 'rate_limited', 'rate_limited']);
  });

  it('takes time slots inside the business hours only, not past nor too far ahead', async () => {
    const screening = screeningWith({ maxDaysAhead: 7 });
    const at = (iso: string, s: string) =>
      screening.screenCallback(request({ when: iso, sessionId: s, phone: `+1415555${s}` }));
    // 15:00 Berlin on Monday: open.
    const ok = await at('2026-01-05T14:00:00Z', '0101');
    if (!ok.ok) throw new Error(ok.code);
    // 20:00 Berlin: closed; Tuesday: closed; the past; in a month.
    expect(codeOf(await at('2026-01-05T19:00:00Z', '0102'))).toBe('callback_slot_invalid');
    expect(codeOf(await at('2026-01-06T10:00:00Z', '0103'))).toBe('callback_slot_invalid');
    expect(codeOf(await at('2026-01-05T07:00:00Z', '0104'))).toBe('callback_slot_invalid');
    expect(codeOf(await at('2026-02-09T10:00:00Z', '0105'))).toBe('callback_slot_invalid');
    expect(codeOf(await at('tomorrow', '0106'))).toBe('callback_slot_invalid');
  });

  it('refuses "now" while the destination is closed, and unknown destinations', async () => {
    const screening = screeningWith();
    clock = Date.parse('2026-01-05T20:00:00Z');
    expect(codeOf(await screening.screenCallback(request()))).toBe('outside_business_hours');
    expect(codeOf(await screening.screenCallback(request({ destination: 'listing.ls_1' })))).toBe(
      'ok',
    );
    expect(codeOf(await screening.screenCallback(request({ destination: 'support' })))).toBe(
      'callback_not_offered',
    );
  });

  it('refuses callbacks when the screening has none configured', async () => {
    const screening = createScreening({ issuer, queues: ['sales'], now });
    expect(codeOf(await screening.screenCallback(request()))).toBe('callback_not_offered');
  });

  it('names the bad field of the options', () => {
    expect(() =>
      createScreening({
        issuer,
        queues: [],
        callbacks: { destinations: ['sales'], blockedNumbers: ['1900'] },
      }),
    ).toThrow(ParleyError);
    expect(() =>
      createScreening({
        issuer,
        queues: [],
        callbacks: { destinations: ['sales'], defaultCountry: 'usa' },
      }),
    ).toThrow(/defaultCountry/);
  });
});
