import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Call } from '../calls/index.js';
import { createLogger } from '../observability/index.js';
import type { CallMatch } from './inbound-match.js';
import type { QualifyResult } from './billing.js';
import type { MarketplaceCallHooks } from './marketplace.js';
import { trackedCalls } from './tracked-calls.js';

afterEach(() => vi.useRealTimers());

describe('trackedCalls', () => {
  it('arms the qualification timer again when it fired before the wall clock reached qualifiesAt', async () => {
    vi.useFakeTimers();
    // The wall clock the hooks see, and how far it falls behind the timers (which run on the
    // monotonic clock: a slewed wall clock, or a timer that fires a millisecond early).
    let lag = 0;
    const clock = () => Date.now() - lag;
    const qualifiesAt = clock() + 1000;
    const results: QualifyResult['status'][] = [];
    const match = {
      kind: 'tracked',
      routable: true,
      tenant: 'acme',
      listing: { id: 'ls_1' },
      destination: { kind: 'agent', agent: 'agent1' },
      matchedBy: 'number',
    } as unknown as CallMatch;
    const hooks = {
      matchInbound: async () => match,
      callStarted: async () => undefined,
      advertiserConnected: async () => ({ qualifiesAt }),
      qualify: async (_id: string, now: number): Promise<QualifyResult> => {
        const result: QualifyResult =
          now < qualifiesAt
            ? { status: 'not_yet', qualifiesAt }
            : ({ status: 'charged' } as unknown as QualifyResult);
        results.push(result.status);
        return result;
      },
      callEnded: async () => ({ status: 'not_connected' }) as QualifyResult,
    } as unknown as MarketplaceCallHooks;
    const route = await trackedCalls({ hooks, now: clock, logger: createLogger('silent') }).route({
      called: '+14155550100',
      callerNumber: null,
      at: clock(),
    });
    expect(route?.kind).toBe('route');
    const call = Object.assign(new EventEmitter(), { id: 'c1' }) as unknown as Call;
    if (route?.kind === 'route') route.attach(call);
    call.emit('state', 'answered');
    // The answer is recorded (a promise) and the timer armed before the wall clock lags.
    await vi.advanceTimersByTimeAsync(0);
    lag = 2;
    await vi.advanceTimersByTimeAsync(1000);
    expect(results).toEqual(['not_yet']);
    await vi.advanceTimersByTimeAsync(5);
    expect(results).toEqual(['not_yet', 'charged']);
  });
});
