/**
 * A concurrency step's new calls as the gateway recorded them (`GET
 * /v1/calls` after the run): INVITE → 200 split into admission, the agent's
 * ringing and answer, and the gateway's own answer; failures by reason; the
 * RTP counters summed over the step's answered calls.
 */
import { summary, type Summary } from './measure.js';

/** The parts of a call record (GET /v1/calls) the benchmarks read; times are ISO strings. */
export interface GatewayCallRecord {
  readonly visitorCallId: string;
  readonly state: string;
  readonly outcome: string | null;
  readonly reason: string | null;
  readonly sipStatus: number | null;
  readonly createdAt: string;
  readonly ringingAt: string | null;
  readonly answeredAt: string | null;
  readonly endedAt: string | null;
  /** The relay's counters per leg at the end of the call. */
  readonly media: {
    readonly visitor?: { packetsIn?: number; packetsOut?: number };
    readonly agent?: { packetsIn?: number; packetsOut?: number };
  } | null;
  readonly attempts: readonly {
    agentId: string;
    startedAt: string;
    endedAt: string | null;
    /** The agent's 200 reached the gateway (the answered attempt). */
    answeredAt?: string | null;
    status?: number;
    reason?: string;
  }[];
}

export interface GatewaySide {
  /** Visitor INVITE received → 200 OK sent to the visitor, ms. */
  readonly setupMs: Summary;
  /** INVITE received → INVITE sent to the agent (token, admission, routing, media), ms. */
  readonly admitMs: Summary;
  /** INVITE sent to the agent → its 180, ms. */
  readonly agentRingMs: Summary;
  /** Agent's 180 → 200 OK to the visitor (sipp answers at once; includes the werift answer), ms. */
  readonly answerMs: Summary;
  /** Agent's 180 → the agent's 200 reaching the gateway (the agent's time: sipp's, on the load's core), ms. */
  readonly agentAnswerMs: Summary;
  /** The agent's 200 reaching the gateway → 200 OK to the visitor (the gateway's answer: media, SDP), ms. */
  readonly bridgeMs: Summary;
  /** The gateway's own share of INVITE → 200: admission + bridge (without the agent's ringing and answering), ms. */
  readonly ownMs: Summary;
  /** Failed new calls as the gateway saw them: `state/outcome/reason, attempts: status…` → count. */
  readonly failures: Record<string, number>;
  /** New calls the gateway has no record of. */
  readonly unknown: number;
  /**
   * The relay's packet counters summed over this step's answered calls (whole
   * call): from the browsers, to the agent, back from the agent (sipp's echo),
   * to the browsers. Where packets go missing tells who dropped them.
   */
  readonly packets: {
    readonly fromVisitors: number;
    readonly toAgent: number;
    readonly fromAgent: number;
    readonly toVisitors: number;
  };
  /** Up to 10 records of failed calls, as the gateway stored them. */
  readonly failedRecords: readonly GatewayCallRecord[];
}

export function gatewaySide(
  ids: readonly number[],
  setups: ReadonlyMap<number, { readonly callId: string; readonly ok: boolean }>,
  records: ReadonlyMap<string, GatewayCallRecord>,
): GatewaySide {
  const t = (iso: string | null | undefined): number | undefined =>
    iso ? Date.parse(iso) : undefined;
  const gap = (a: number | undefined, b: number | undefined): number | undefined =>
    a !== undefined && b !== undefined ? b - a : undefined;
  const defined = (xs: (number | undefined)[]): number[] =>
    xs.filter((x): x is number => x !== undefined);
  const setup: (number | undefined)[] = [];
  const admit: (number | undefined)[] = [];
  const ring: (number | undefined)[] = [];
  const answer: (number | undefined)[] = [];
  const agentAnswer: (number | undefined)[] = [];
  const bridge: (number | undefined)[] = [];
  const own: (number | undefined)[] = [];
  const failures: Record<string, number> = {};
  const failedRecords: GatewayCallRecord[] = [];
  const packets = { fromVisitors: 0, toAgent: 0, fromAgent: 0, toVisitors: 0 };
  let unknown = 0;
  for (const id of ids) {
    const event = setups.get(id);
    const record = event?.callId ? records.get(event.callId) : undefined;
    if (!record) {
      unknown += 1;
      continue;
    }
    const created = t(record.createdAt);
    const firstAttempt = t(record.attempts[0]?.startedAt);
    if (event?.ok) {
      setup.push(gap(created, t(record.answeredAt)));
      admit.push(gap(created, firstAttempt));
      ring.push(gap(firstAttempt, t(record.ringingAt)));
      answer.push(gap(t(record.ringingAt), t(record.answeredAt)));
      const agentAnswered = t(record.attempts.find((a) => a.answeredAt)?.answeredAt);
      agentAnswer.push(gap(t(record.ringingAt), agentAnswered));
      const bridged = gap(agentAnswered, t(record.answeredAt));
      bridge.push(bridged);
      const admitted = gap(created, firstAttempt);
      own.push(admitted !== undefined && bridged !== undefined ? admitted + bridged : undefined);
      packets.fromVisitors += record.media?.visitor?.packetsIn ?? 0;
      packets.toAgent += record.media?.agent?.packetsOut ?? 0;
      packets.fromAgent += record.media?.agent?.packetsIn ?? 0;
      packets.toVisitors += record.media?.visitor?.packetsOut ?? 0;
    } else {
      const attempts = record.attempts
        .map((a) => `${a.agentId}:${a.status ?? '-'}${a.reason ? ` ${a.reason}` : ''}`)
        .join(', ');
      const key = `${record.state}/${record.outcome ?? '-'}/${record.reason ?? '-'} (sip ${record.sipStatus ?? '-'}; attempts: ${attempts || 'none'})`;
      failures[key] = (failures[key] ?? 0) + 1;
      if (failedRecords.length < 10) failedRecords.push(record);
    }
  }
  return {
    setupMs: summary(defined(setup)),
    admitMs: summary(defined(admit)),
    agentRingMs: summary(defined(ring)),
    answerMs: summary(defined(answer)),
    agentAnswerMs: summary(defined(agentAnswer)),
    bridgeMs: summary(defined(bridge)),
    ownMs: summary(defined(own)),
    failures,
    unknown,
    failedRecords,
    packets,
  };
}

/** Longer than every RFC 3261 timer (64·T1 = 32 s), so what is left after it is held for good. */
