import { describe, expect, it, vi } from 'vitest';
import { TOKEN_MARGIN_MS, TokenPrefetch } from './token-prefetch.js';

const request = { url: 'https://shop.test/token', queue: 'sales', extra: {} };

function endpoint(now: () => number, lifetimeMs = 60_000) {
  let issued = 0;
  const fetchFn = vi.fn(async () => {
    issued += 1;
    return new Response(
      JSON.stringify({
        token: `t${issued}`,
        expiresAt: new Date(now() + lifetimeMs).toISOString(),
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
  });
  return fetchFn;
}

describe('TokenPrefetch', () => {
  it('hands a prefetched token to the call once, and fetches anew for the next', async () => {
    const now = () => 1_000_000;
    const fetchFn = endpoint(now);
    const tokens = new TokenPrefetch(fetchFn, now);
    tokens.prefetch(request);
    tokens.prefetch(request); // already on its way: no second request
    expect(fetchFn).toHaveBeenCalledTimes(1);
    const first = await tokens.take(request, new AbortController().signal);
    expect(first).toMatchObject({ ok: true, token: 't1' });
    const second = await tokens.take(request, new AbortController().signal);
    expect(second).toMatchObject({ ok: true, token: 't2' });
    expect(fetchFn).toHaveBeenCalledTimes(2);
    tokens.close();
  });

  it('does not use a token close to its expiry, nor one for another queue', async () => {
    let t = 1_000_000;
    const now = () => t;
    const fetchFn = endpoint(now, TOKEN_MARGIN_MS + 5_000);
    const tokens = new TokenPrefetch(fetchFn, now);
    tokens.prefetch(request);
    await Promise.resolve();
    t += 10_000; // the held token now expires within the margin
    const taken = await tokens.take(request, new AbortController().signal);
    expect(taken).toMatchObject({ ok: true, token: 't2' });
    tokens.prefetch({ ...request, queue: 'support' });
    const other = await tokens.take(request, new AbortController().signal);
    expect(other).toMatchObject({ ok: true, token: 't4' }); // t3 was for `support`
    tokens.close();
  });

  it('keeps a refusal for the hovers that follow, and asks again at the click', async () => {
    const fetchFn = vi.fn(
      async () =>
        new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down' } }), {
          status: 429,
          headers: { 'content-type': 'application/json' },
        }),
    );
    const tokens = new TokenPrefetch(fetchFn, () => 1_000_000);
    expect(await tokens.prefetch(request)).toMatchObject({ ok: false, code: 'rate_limited' });
    tokens.prefetch(request);
    tokens.prefetch(request);
    expect(fetchFn).toHaveBeenCalledTimes(1);
    await tokens.take(request, new AbortController().signal);
    expect(fetchFn).toHaveBeenCalledTimes(2);
    tokens.close();
  });

  it('renews a held token before it expires, a bounded number of times', async () => {
    vi.useFakeTimers();
    try {
      const now = () => Date.now();
      const fetchFn = endpoint(now, 60_000);
      const tokens = new TokenPrefetch(fetchFn, now);
      tokens.prefetch(request);
      for (let i = 0; i < 10; i += 1) await vi.advanceTimersByTimeAsync(60_000);
      expect(fetchFn).toHaveBeenCalledTimes(4); // the first and 3 renewals
      tokens.close();
    } finally {
      vi.useRealTimers();
    }
  });
});
