/**
 * Bad callback requests through `POST /v1/callbacks` get clear errors and
 * place no call: numbers that are not phone numbers, premium-rate and
 * emergency numbers, a token without the `callback:` scope for the
 * destination, a token used twice, the same number asked too often. The
 * records the API lists are only the accepted ones.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestGateway, type TestGateway } from './harness.js';

let gw: TestGateway;

beforeAll(async () => {
  gw = await startTestGateway({
    config: {
      callbacks: {
        queues: { sales: { callerNumber: '+14155550188' } },
        rateLimit: { perNumber: { max: 2, windowSeconds: 3600 } },
      },
    },
  });
});
afterAll(() => gw?.close());

async function ask(
  phone: string,
  options: { scope?: string; destination?: string; token?: string; when?: string } = {},
) {
  const token =
    options.token ??
    (await gw.token({
      scope: options.scope ?? 'callback:sales',
      privateClaims: {
        callback: { phone, when: options.when ?? new Date(Date.now() + 86_400_000).toISOString() },
      },
    }));
  const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token, destination: options.destination ?? 'sales' }),
  });
  return {
    status: res.status,
    body: (await res.json()) as { id?: string; error?: { code: string } },
    token,
  };
}

describe('POST /v1/callbacks refuses bad requests', () => {
  it('refuses numbers that are not phone numbers, premium-rate and emergency numbers', async () => {
    for (const [phone, code] of [
      ['hello', 'number_invalid'],
      ['+1415', 'number_invalid'],
      ['+19005551234', 'number_blocked'],
      ['911', 'number_blocked'],
      ['+1911', 'number_blocked'],
    ] as const) {
      const res = await ask(phone, { when: 'now' });
      expect(res.body.error?.code, phone).toBe(code);
      expect(res.status).toBeGreaterThanOrEqual(400);
    }
  });

  it('refuses a token without the destination’s callback scope, and a slot too far ahead', async () => {
    const wrong = await ask('+14155550123', { scope: 'queue:sales' });
    expect(wrong.status).toBe(401);
    expect(wrong.body.error?.code).toBe('scope_denied');
    const far = await ask('+14155550123', {
      when: new Date(Date.now() + 30 * 86_400_000).toISOString(),
    });
    expect(far.body.error?.code).toBe('callback_slot_invalid');
  });

  it('takes a token once, and the same number a limited number of times', async () => {
    const first = await ask('+14155550124');
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    const again = await ask('+14155550124', { token: first.token });
    expect(again.status).toBeGreaterThanOrEqual(400);
    expect(again.body.error?.code).toBe('replayed');
    expect((await ask('+14155550124')).status).toBe(201);
    const limited = await ask('+14155550124');
    expect(limited.body.error?.code).toBe('rate_limited');
    expect(limited.status).toBe(429);
  });

  it('lists only the accepted callbacks, scheduled for their slot, none placed', async () => {
    const { body } = await gw.api<{
      callbacks: { phone: string; state: string; attempts: unknown[] }[];
    }>('/v1/callbacks');
    expect(body.callbacks.map((c) => c.phone)).toEqual(['+14155550124', '+14155550124']);
    expect(body.callbacks.every((c) => c.state === 'scheduled' && c.attempts.length === 0)).toBe(
      true,
    );
  });
});
