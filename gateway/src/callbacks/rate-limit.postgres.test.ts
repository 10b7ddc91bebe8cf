/**
 * The rate limits of callback requests on a real PostgreSQL shared by two
 * gateways: the count and the insert are one step (an advisory lock per
 * number and per session, held to the commit), so of concurrent requests for
 * one number, through either gateway, exactly `max` are accepted.
 */
import type { VerifiedCallToken } from '@parley/shared/tokens';
import { describe, expect, it } from 'vitest';
import { callbacks as callbacksSchema } from '../config/callbacks.js';
import { createLogger } from '../observability/index.js';
import { useTestPostgres } from '../storage/postgres/test-postgres.js';
import type { CallbackDestinations, ResolvedDestination } from './destinations.js';
import { CallbackFees } from './fee.js';
import { CALLBACKS_PG_MIGRATIONS } from './pg-schema.js';
import { PgCallbackStore } from './pg-store.js';
import { CallbackProgress } from './progress.js';
import type { CallbackRunner } from './runner.js';
import { CallbackScheduler } from './scheduler.js';
import { CallbackService } from './service.js';

const pg = useTestPostgres('callbacks_limits');

const destination: ResolvedDestination = {
  tenant: 'acme',
  destination: 'sales',
  listingId: null,
  listingTitle: null,
  advertiserId: null,
  advertiserName: 'Bob',
  target: { kind: 'queue', queue: 'sales' },
  callerNumber: '+14155550188',
  feeCents: 0,
  currency: 'USD',
  queue: 'sales',
  openAt: () => true,
  impressionId: null,
};

/** A gateway's service on `store`: requests are stored and scheduled (a day ahead: nothing runs). */
function gateway(store: PgCallbackStore, limits: { perNumber: number; perSession: number }) {
  const config = callbacksSchema.parse({
    rateLimit: { perNumber: { max: limits.perNumber }, perSession: { max: limits.perSession } },
  });
  const scheduler = new CallbackScheduler({
    maxConcurrent: 1,
    now: Date.now,
    freeAgents: () => 0,
    onAgentChange: () => () => undefined,
    run: () => Promise.resolve(),
    expire: () => Promise.resolve(),
  });
  const service = new CallbackService({
    config,
    store,
    destinations: {
      resolve: () => Promise.resolve(destination),
    } as unknown as CallbackDestinations,
    fees: new CallbackFees({ store, billing: undefined, now: Date.now }),
    progress: new CallbackProgress(),
    // Never reached: nothing is due within the test.
    runner: {} as CallbackRunner,
    scheduler,
    logger: createLogger('silent'),
    now: Date.now,
  });
  return { service, scheduler };
}

let jti = 0;
function token(phone: string, session: string): VerifiedCallToken {
  const at = Math.floor(Date.now() / 1000);
  return {
    claims: {
      iss: 'acme',
      aud: 'parley',
      sub: session,
      jti: `jti-${(jti += 1)}`,
      iat: at,
      nbf: at,
      exp: at + 300,
      scope: 'callback:sales',
      origin: 'https://shop.example',
    },
    privateClaims: {
      callback: { phone, when: new Date(Date.now() + 86_400_000).toISOString() },
    },
    kid: 'k1',
    alg: 'ES256',
  };
}

describe('callback rate limits on a shared PostgreSQL', () => {
  it('of concurrent requests for one number (one session) through two gateways, accepts max', async () => {
    const pool = await pg.migrated([{ name: 'callbacks', postgres: CALLBACKS_PG_MIGRATIONS }], 8);
    const limits = { perNumber: 3, perSession: 2 };
    const a = gateway(new PgCallbackStore(pool, 'gw-a'), limits);
    const b = gateway(new PgCallbackStore(pool, 'gw-b'), limits);
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        (i % 2 ? a : b).service.request({
          token: token('+14155550123', `s${i}`),
          destination: 'sales',
        }),
      ),
    );
    const refused = results.filter((r) => r.status === 'rejected');
    expect(results.length - refused.length).toBe(3);
    for (const r of refused) expect(r.reason).toMatchObject({ code: 'rate_limited' });
    expect(await new PgCallbackStore(pool, 'gw-c').countForNumber('+14155550123', 0)).toBe(3);

    // One web session asking for several numbers: its own limit, the same way.
    const session = await Promise.allSettled(
      Array.from({ length: 8 }, (_, i) =>
        (i % 2 ? a : b).service.request({
          token: token(`+1415555020${i}`, 'one-session'),
          destination: 'sales',
        }),
      ),
    );
    expect(session.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    expect(await a.service.list({ limit: 100 })).toHaveLength(5);
    a.scheduler.close();
    b.scheduler.close();
  });
});
