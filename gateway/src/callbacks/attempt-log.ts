/**
 * One attempt of a callback as it happens: both legs' times and results, the
 * key and when, the outcome. The live call writes here; the runner stores a
 * snapshot with every state change. The advertiser side is also the ring
 * strategy's record (`RingRecord`) when a queue's agents are rung.
 */
import type { RingRecord } from '../calls/index.js';
import type { CallAttempt } from '../storage/index.js';
import type { CallbackAttempt, LegRecord } from './model.js';

type MutableLeg = { -readonly [K in keyof LegRecord]: LegRecord[K] };

const newLeg = (party: string, callId: string | null, at: number): MutableLeg => ({
  callId,
  party,
  dialledAt: at,
  ringingAt: null,
  answeredAt: null,
  endedAt: null,
  status: null,
  result: null,
});

export class AttemptLog implements RingRecord {
  readonly n: number;
  readonly startedAt: number;
  readonly customer: MutableLeg;
  readonly advertiser: MutableLeg[] = [];
  promptAt: number | null = null;
  key: string | null = null;
  keyAt: number | null = null;
  keySource: 'rfc4733' | 'info' | null = null;
  bridgedAt: number | null = null;
  endedAt: number | null = null;
  outcome: string | null = null;
  /** RingRecord: the strategy reads the start and writes its routing decision here. */
  readonly record: { readonly createdAt: number; routing: Record<string, unknown> | null };
  readonly #now: () => number;
  readonly #byAttempt = new Map<CallAttempt, MutableLeg>();

  constructor(n: number, phone: string, now: () => number) {
    this.n = n;
    this.#now = now;
    this.startedAt = now();
    this.customer = newLeg(phone, null, this.startedAt);
    this.record = { createdAt: this.startedAt, routing: null };
  }

  /** A leg toward the advertiser was sent (a phone number, or an agent). */
  advertiserLeg(party: string, callId: string | null): MutableLeg {
    const leg = newLeg(party, callId, this.#now());
    this.advertiser.push(leg);
    return leg;
  }

  attemptStarted(agentId: string, callId: string): CallAttempt {
    const attempt: CallAttempt = { agentId, callId, startedAt: this.#now() };
    this.#byAttempt.set(attempt, this.advertiserLeg(`agent:${agentId}`, callId));
    return attempt;
  }

  attemptEnded(attempt: CallAttempt, status?: number, reason?: string): void {
    const leg = this.#byAttempt.get(attempt);
    if (!leg) return;
    leg.endedAt ??= this.#now();
    if (status !== undefined) leg.status ??= status;
    if (reason !== undefined) leg.result ??= reason;
  }

  attemptReason(attempt: CallAttempt, reason: string): void {
    const leg = this.#byAttempt.get(attempt);
    if (leg) leg.result ??= reason;
  }

  answeredBy(attempt: CallAttempt): void {
    const leg = this.#byAttempt.get(attempt);
    if (!leg) return;
    leg.answeredAt = this.#now();
    leg.result = 'answered';
  }

  /** The leg of an agent whose phone rings now (the strategy reports ringing by agent). */
  agentLeg(agentId: string): MutableLeg | undefined {
    return [...this.advertiser].reverse().find((l) => l.party === `agent:${agentId}`);
  }

  snapshot(): CallbackAttempt {
    return {
      n: this.n,
      startedAt: this.startedAt,
      customer: { ...this.customer },
      promptAt: this.promptAt,
      key: this.key,
      keyAt: this.keyAt,
      keySource: this.keySource,
      advertiser: this.advertiser.map((l) => ({ ...l })),
      bridgedAt: this.bridgedAt,
      endedAt: this.endedAt,
      outcome: this.outcome,
    };
  }
}
