/**
 * INVITE→200 timed on the wire: sipp's own response times come in whole
 * milliseconds from a clock that moves in kernel ticks (4 ms steps measured
 * here), too coarse for the few milliseconds a B2BUA adds. tshark on the
 * loopback, filtered to one UDP port, gives every SIP message's capture time;
 * per Call-ID the first INVITE and the first 100 and 200 to it make a sample.
 *
 * Both legs of a call through the gateway cross its SIP port: the visitor leg
 * (INVITE to that port) and the agent leg (INVITE from it). Their Call-IDs
 * differ; `pair` gives each leg a key (the visitor's from its Call-ID, the
 * agent's from the gateway's X-Parley-Session header) so that the gateway's own
 * time per call splits exactly into visitor INVITE → agent INVITE (token,
 * storage, media, routing) and agent 200 → visitor 200.
 */
import { type ManagedProcess, spawnManaged } from '@parley/testkit';
import { summarize, type LatencySummary } from './latency-stats.js';

export interface WireTiming {
  /** INVITE→200 of INVITEs sent to the port (the visitor leg; or sipp→UAS directly). */
  readonly inbound: LatencySummary;
  /** INVITE→200 of INVITEs sent from the port (the gateway's agent leg). */
  readonly outbound: LatencySummary;
  /** INVITE→100 of the inbound INVITEs. */
  readonly inboundTrying: LatencySummary;
  /** The gateway's own time per call, from the legs paired. */
  readonly own?: {
    readonly calls: number;
    /** Visitor INVITE in → agent INVITE out. */
    readonly inviteToInvite: LatencySummary;
    /** Agent 200 in → visitor 200 out. */
    readonly okToOk: LatencySummary;
    /** Both together: what the gateway adds to INVITE→200. */
    readonly total: LatencySummary;
  };
  readonly packets: number;
}

export interface LegPairing {
  /** Key of an inbound leg from its Call-ID. */
  readonly inbound: (callId: string) => string | undefined;
  /** Key of an outbound leg from its INVITE's header block. */
  readonly outbound: (headers: string) => string | undefined;
}

export interface SipCapture {
  /** Waits a moment for the last packets, stops tshark and times the INVITEs. */
  stop(pair?: LegPairing): Promise<WireTiming>;
}

interface Leg {
  readonly inbound: boolean;
  invite?: number;
  trying?: number;
  ok?: number;
  headers?: string;
}

/** Starts tshark on `lo` for UDP `port` (optionally pinned to `cpu`); resolves once it captures. */
export async function startSipCapture(port: number, cpu?: number): Promise<SipCapture> {
  const fields = [
    'frame.time_epoch',
    'udp.srcport',
    'udp.dstport',
    'sip.Call-ID',
    'sip.CSeq.method',
    'sip.Method',
    'sip.Status-Code',
    'sip.msg_hdr',
  ];
  const tshark = [
    'tshark',
    '-i',
    'lo',
    '-f',
    `udp port ${port}`,
    '-l',
    '-n',
    '-T',
    'fields',
    '-E',
    'separator=;',
  ];
  for (const f of fields) tshark.push('-e', f);
  const [command = 'tshark', ...args] =
    cpu === undefined ? tshark : ['taskset', '-c', String(cpu), ...tshark];
  const legs = new Map<string, Leg>();
  let packets = 0;
  let partial = '';
  const take = (line: string): void => {
    // The header block (last field) may hold the separator: split the first fields only.
    const parts = line.split(';');
    const [time, src, dst, callId, cseqMethod, method, status] = parts;
    if (!time || !callId || cseqMethod !== 'INVITE') return;
    packets += 1;
    const at = Number(time) * 1000;
    if (method === 'INVITE') {
      let leg = legs.get(callId);
      if (!leg) {
        const inbound = Number(dst) === port && Number(src) !== port;
        leg = { inbound, ...(inbound ? {} : { headers: parts.slice(7).join(';') }) };
        legs.set(callId, leg);
      }
      leg.invite ??= at;
    } else if (status) {
      const leg = legs.get(callId);
      if (!leg) return;
      if (status === '100') leg.trying ??= at;
      if (status === '200') leg.ok ??= at;
    }
  };
  const child: ManagedProcess = spawnManaged({
    command,
    args,
    name: `tshark:${port}`,
    maxLines: 50,
    onOutput: (chunk, stream) => {
      if (stream !== 'stdout') return;
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) take(line);
    },
  });
  await child.waitForOutput(/Capturing on/, 15_000);
  return {
    async stop(pair) {
      await new Promise((r) => setTimeout(r, 500));
      await child.stop({ signal: 'SIGINT', graceMs: 3000 });
      if (partial) take(partial);
      const all = [...legs.entries()];
      const span = (inbound: boolean, key: 'ok' | 'trying'): number[] =>
        all
          .map(([, l]) => l)
          .filter((l) => l.inbound === inbound && l.invite !== undefined && l[key] !== undefined)
          .map((l) => (l[key] ?? 0) - (l.invite ?? 0));
      let own: WireTiming['own'];
      if (pair) {
        const outbound = new Map<string, Leg>();
        for (const [, leg] of all) {
          const key = !leg.inbound && leg.headers ? pair.outbound(leg.headers) : undefined;
          if (key !== undefined) outbound.set(key, leg);
        }
        const before: number[] = [];
        const after: number[] = [];
        const total: number[] = [];
        for (const [callId, leg] of all) {
          if (!leg.inbound) continue;
          const key = pair.inbound(callId);
          const agent = key === undefined ? undefined : outbound.get(key);
          const { invite: t0, ok: t3 } = leg;
          const t1 = agent?.invite;
          const t2 = agent?.ok;
          if (t0 === undefined || t1 === undefined || t2 === undefined || t3 === undefined)
            continue;
          if (!(t0 <= t1 && t1 <= t2 && t2 <= t3)) continue;
          before.push(t1 - t0);
          after.push(t3 - t2);
          total.push(t1 - t0 + (t3 - t2));
        }
        if (total.length > 0) {
          own = {
            calls: total.length,
            inviteToInvite: summarize(before),
            okToOk: summarize(after),
            total: summarize(total),
          };
        }
      }
      return {
        inbound: summarize(span(true, 'ok')),
        outbound: summarize(span(false, 'ok')),
        inboundTrying: summarize(span(true, 'trying')),
        ...(own ? { own } : {}),
        packets,
      };
    },
  };
}
