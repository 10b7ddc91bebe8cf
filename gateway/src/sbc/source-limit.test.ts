import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { sip } from '../config/sip.js';
import { parseMessage, type SipRequest } from '../sip/message/index.js';
import { SipStack, type Flow } from '../sip/index.js';
import { sourceLimit } from './source-limit.js';

const EDGE = '127.0.0.2';

/** A stack never started: the screen's stateless answers are recorded, not sent. */
function screened(options: Parameters<typeof sourceLimit>[1]) {
  const stack = new SipStack({
    listen: [],
    maxMessageBytes: 16384,
    edge: [EDGE],
    timers: { t1: 100, t2: 4000, t4: 5000 },
    userAgent: 'parley-test',
    logger: pino({ level: 'silent' }),
  });
  const answers: { status: number; reason: string | undefined }[] = [];
  stack.respondStateless = (_request, _flow, status, o = {}) => {
    answers.push({ status, reason: o.headers?.find(([name]) => name === 'Reason')?.[1] });
  };
  let limited = 0;
  const screen = sourceLimit(stack, options, () => (limited += 1));
  return {
    answers,
    limited: () => limited,
    /** True when the screen answered or dropped the request. */
    send(request: SipRequest, from: string, dialog?: string): boolean {
      const flow = udpFlow(from);
      stack.transport.edge.apply(request, flow);
      return screen(request, flow, dialog);
    },
  };
}

function udpFlow(address: string): Flow {
  return {
    id: `udp ${address}:5060`,
    protocol: 'UDP',
    local: { address: '127.0.0.1', port: 5060 },
    remote: { address, port: 5060 },
    reliable: false,
    origin: undefined,
    closed: false,
    send: () => true,
    close: () => undefined,
  };
}

let n = 0;
function request(
  method: string,
  o: { toTag?: string; callId?: string; headers?: string[] } = {},
): SipRequest {
  n += 1;
  return parseMessage(
    [
      `${method} sip:sales@parley.test SIP/2.0`,
      `Via: SIP/2.0/UDP 192.0.2.1:5060;branch=z9hG4bK-${n}`,
      `From: <sip:v@192.0.2.1>;tag=f1`,
      `To: <sip:sales@parley.test>${o.toTag ? `;tag=${o.toTag}` : ''}`,
      `Call-ID: ${o.callId ?? `c-${n}`}`,
      `CSeq: ${n} ${method}`,
      ...(o.headers ?? []),
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n'),
  ) as SipRequest;
}

afterEach(() => {
  vi.useRealTimers();
});

/** `perSecond` requests a second for `seconds` (on a fake clock) from each dialog; how many were refused. */
function steady(
  s: ReturnType<typeof screened>,
  o: { source: string; dialogs: number; perSecond: number; seconds: number },
): number {
  let refused = 0;
  for (let tick = 0; tick < o.seconds * o.perSecond; tick += 1) {
    vi.setSystemTime(Date.now() + 1000 / o.perSecond);
    for (let d = 0; d < o.dialogs; d += 1) {
      const callId = `${o.source}-call-${d}`;
      const inDialog = request('INFO', { toTag: 't', callId });
      if (s.send(inDialog, o.source, `${callId};t;f1`)) refused += 1;
    }
  }
  return refused;
}

describe('sourceLimit', () => {
  it('counts an established dialog’s requests per dialog, bounded, and unknown dialogs per source', () => {
    const s = screened({
      perSecond: 0.001,
      burst: 2,
      perDialog: { perSecond: 0.001, burst: 3 },
    });
    // The address's budget is spent out of any dialog.
    expect([
      s.send(request('OPTIONS'), '192.0.2.1'),
      s.send(request('OPTIONS'), '192.0.2.1'),
    ]).toEqual([false, false]);
    expect(s.send(request('OPTIONS'), '192.0.2.1')).toBe(true);
    // A call's own requests from that address pass, up to the dialog's budget.
    const inCall = () =>
      s.send(request('INFO', { toTag: 't1', callId: 'call-1' }), '192.0.2.1', 'call-1;t1;f1');
    expect([inCall(), inCall(), inCall()]).toEqual([false, false, false]);
    expect(inCall()).toBe(true);
    // Another call from the same address has its own.
    expect(s.send(request('BYE', { toTag: 't2' }), '192.0.2.1', 'call-2;t2;f1')).toBe(false);
    // A made-up To tag (a dialog the stack does not know) counts per source: refused.
    expect(s.send(request('BYE', { toTag: 'made-up' }), '192.0.2.1')).toBe(true);
    expect(s.answers.map((a) => a.status)).toEqual([503, 503, 503]);
    expect(s.answers[0]?.reason).toBe('SIP;cause=503;text="rate_limited"');
  });

  it('answers every refusal of a request relayed by a trusted edge, and drops a direct flood’s past a few', () => {
    const s = screened({ perSecond: 0.001, burst: 1 });
    const client = ['X-Parley-Source: udp 198.51.100.7:5060'];
    for (let i = 0; i < 20; i += 1) s.send(request('INVITE', { headers: client }), EDGE);
    for (let i = 0; i < 20; i += 1) s.send(request('INVITE'), '192.0.2.9');
    // 19 refused through the edge, all answered; 19 refused directly, 5 answered (the refusal budget).
    expect(s.limited()).toBe(38);
    expect(s.answers).toHaveLength(19 + 5);
    // The edge's own requests (its probes, no client named) are not counted.
    expect(s.send(request('OPTIONS'), EDGE)).toBe(false);
  });

  it('answers a scanner behind a trusted edge 403 blocked, and drops it when direct', () => {
    const s = screened({ perSecond: 20, burst: 60 });
    const ua = 'User-Agent: friendly-scanner';
    expect(s.send(request('OPTIONS', { headers: [ua] }), '192.0.2.5')).toBe(true);
    expect(s.answers).toEqual([]);
    expect(
      s.send(request('OPTIONS', { headers: [ua, 'X-Parley-Source: udp 198.51.100.8:5060'] }), EDGE),
    ).toBe(true);
    expect(s.answers).toEqual([{ status: 403, reason: 'SIP;cause=403;text="blocked"' }]);
  });

  it('caps a source’s dialogs together, after each dialog’s own budget', () => {
    const s = screened({
      perSecond: 0.001,
      burst: 1,
      perDialog: { perSecond: 0.001, burst: 3 },
      perSourceDialogs: { perSecond: 0.001, burst: 5 },
    });
    const inCall = (call: string, from = '192.0.2.1') =>
      s.send(request('INFO', { toTag: 't', callId: call }), from, `${call};t;f1`);
    // One call past its own budget spends only its own: 3 pass, 7 refused.
    const first = Array.from({ length: 10 }, () => inCall('call-1'));
    expect(first.filter((refused) => !refused)).toHaveLength(3);
    // A second call from that address gets the rest of the source's 5…
    expect([inCall('call-2'), inCall('call-2')]).toEqual([false, false]);
    // …and a third call none, however fresh its own budget.
    expect(inCall('call-3')).toBe(true);
    // Another address's calls have their own.
    expect(inCall('call-4', '192.0.2.2')).toBe(false);
    expect(s.answers.at(-1)?.reason).toBe('SIP;cause=503;text="rate_limited"');
  });

  it('with the defaults, 100 honest calls behind one NAT pass and one source’s many calls are capped', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const defaults = sip.parse({ domain: 'parley.test' }).rateLimit;
    const s = screened(defaults);
    // 100 calls each sending 4 requests a second for 10 s: none refused.
    expect(steady(s, { source: '192.0.2.1', dialogs: 100, perSecond: 4, seconds: 10 })).toBe(0);
    // 200 calls from one address each within its own budget (8/s): past the
    // source's 400/s once its burst is spent, about half are refused.
    const refused = steady(s, { source: '192.0.2.2', dialogs: 200, perSecond: 8, seconds: 10 });
    const sent = 200 * 8 * 10;
    const passed = sent - refused;
    expect(passed).toBeLessThanOrEqual(defaults.perSourceDialogs.burst + 400 * 10 + 1);
    expect(passed).toBeGreaterThanOrEqual(400 * 10);
  });

  it('lets a CANCEL of a pending INVITE through on its call’s budget when the address’s is spent', () => {
    const s = screened({ perSecond: 0.001, burst: 1, perDialog: { perSecond: 0.001, burst: 3 } });
    expect(s.send(request('INVITE', { callId: 'ringing' }), '192.0.2.1')).toBe(false);
    // A neighbour's flood spends the address's budget.
    expect(s.send(request('OPTIONS'), '192.0.2.1')).toBe(true);
    // The stack names the CANCEL's pending INVITE (sip-stack.ts): it passes.
    expect(s.send(request('CANCEL', { callId: 'ringing' }), '192.0.2.1', 'invite ringing;f1')).toBe(
      false,
    );
    // A CANCEL of nothing pending counts per source: refused.
    expect(s.send(request('CANCEL', { callId: 'nothing' }), '192.0.2.1')).toBe(true);
  });
});
