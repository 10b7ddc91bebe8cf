import { describe, expect, it } from 'vitest';
import {
  backoffDelay,
  reconnect,
  RECONNECT_DEFAULTS,
  type RebindOutcome,
  type ReconnectClock,
  type ReconnectSteps,
} from './reconnect.js';

/** A clock that jumps instead of waiting: what the loop waited for is recorded. */
function fakeClock(): ReconnectClock & { t: number; waits: number[] } {
  const clock = {
    t: 0,
    waits: [] as number[],
    now: () => clock.t,
    sleep: async (ms: number) => {
      clock.waits.push(ms);
      clock.t += ms;
    },
    random: () => 1, // the longest jittered wait: the window's bound is checked at its worst
  };
  return clock;
}

function steps(
  plan: { connects: boolean[]; rebinds: RebindOutcome[] },
  clock: { t: number },
  costMs = 100,
): ReconnectSteps & { connects: number; rebinds: number } {
  const s = {
    connects: 0,
    rebinds: 0,
    async connect() {
      s.connects++;
      clock.t += costMs;
      if (!(plan.connects.shift() ?? false)) throw new Error('refused');
    },
    async rebind() {
      s.rebinds++;
      clock.t += costMs;
      return plan.rebinds.shift() ?? { ok: false, code: 'network_lost', retry: true };
    },
  };
  return s;
}

describe('reconnect', () => {
  it('rebinds at once when the gateway is back', async () => {
    const clock = fakeClock();
    const s = steps({ connects: [true], rebinds: [{ ok: true }] }, clock);
    await expect(reconnect(s, new AbortController().signal, undefined, clock)).resolves.toEqual({
      ok: true,
    });
    expect(clock.waits).toEqual([]);
    expect([s.connects, s.rebinds]).toEqual([1, 1]);
  });

  it('backs off, doubling up to the cap, while the WebSocket cannot open', async () => {
    const clock = fakeClock();
    const s = steps(
      { connects: [false, false, false, false, true], rebinds: [{ ok: true }] },
      clock,
    );
    await expect(reconnect(s, new AbortController().signal, undefined, clock)).resolves.toEqual({
      ok: true,
    });
    expect(clock.waits).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelay(RECONNECT_DEFAULTS, 10, 0.99)).toBeLessThanOrEqual(4000);
    expect(backoffDelay(RECONNECT_DEFAULTS, 3, 0)).toBe(500); // jitter: half of the 1 s step at least
  });

  it('tries again when the socket drops under the rebind', async () => {
    const clock = fakeClock();
    const s = steps(
      {
        connects: [true, true],
        rebinds: [{ ok: false, code: 'network_lost', retry: true }, { ok: true }],
      },
      clock,
    );
    await expect(reconnect(s, new AbortController().signal, undefined, clock)).resolves.toEqual({
      ok: true,
    });
    expect(s.rebinds).toBe(2);
  });

  it('stops at a final refusal and reports its code', async () => {
    const clock = fakeClock();
    const s = steps(
      { connects: [true], rebinds: [{ ok: false, code: 'reconnect_refused' }] },
      clock,
    );
    await expect(reconnect(s, new AbortController().signal, undefined, clock)).resolves.toEqual({
      ok: false,
      code: 'reconnect_refused',
    });
    expect(s.connects).toBe(1);
  });

  it('gives up with reconnect_expired when the window is over, never past it', async () => {
    const clock = fakeClock();
    const s = steps({ connects: [], rebinds: [] }, clock);
    await expect(reconnect(s, new AbortController().signal, undefined, clock)).resolves.toEqual({
      ok: false,
      code: 'reconnect_expired',
    });
    expect(clock.t).toBeLessThanOrEqual(RECONNECT_DEFAULTS.windowMs);
    expect(s.connects).toBeGreaterThan(5);
  });

  it('stops when the visitor hangs up meanwhile', async () => {
    const clock = fakeClock();
    const abort = new AbortController();
    const s = steps({ connects: [], rebinds: [] }, clock);
    const connect = s.connect.bind(s);
    s.connect = async (ms: number) => {
      abort.abort();
      return connect(ms);
    };
    await expect(reconnect(s, abort.signal, undefined, clock)).resolves.toEqual({
      ok: false,
      code: 'aborted',
    });
    expect(s.connects).toBe(1);
  });
});
