/**
 * Billing per lead (S8) and the call path's hooks: a call that reached a
 * listing is recorded when it starts, marked when the advertiser leg
 * connects, and charged once when it has been connected for the listing's
 * minimum. The charge is one database transaction: the ledger's balanced
 * postings under the idempotency key `charge:<callId>`, the call's state and
 * the day's counts. A crash before the commit leaves no trace, after it the
 * whole charge, and the key makes every repeat (timer, end of call, recovery
 * after a restart, a second process) a no-op.
 */
import type { PostResult } from '../ledger/index.js';
import type { MarketplaceAccounts } from './accounts.js';
import { chargePostings } from './billing-postings.js';
import { chargeShared } from './billing-shared.js';
import type { MarketplaceCall, MarketplaceCallStore } from './call-store.js';
import type { DirectoryStore } from './directory-store.js';
import type { ListingIndex } from './listing-index.js';
import type { MarketplaceMetrics } from './metrics.js';
import type { CallMatch } from './inbound-match.js';
import type { MarketplaceRegistry } from './registry.js';
import { refundCall } from './refunds.js';

export { chargePostings };

export type QualifyResult =
  | { readonly status: 'charged'; readonly amount: number; readonly transactionId: number | null }
  | { readonly status: 'duplicate'; readonly amount: number; readonly transactionId: number | null }
  | { readonly status: 'not_yet'; readonly qualifiesAt: number }
  /**
   * Only with the shared ledger (`storage.kind: postgres`): the call qualified
   * but its charge would have taken the advertiser below its funds or the
   * listing past its daily budget (calls routed at once on several gateways);
   * it is recorded as qualified, charged 0, and the listing pauses.
   */
  | {
      readonly status: 'refused';
      readonly reason: 'insufficient_funds' | 'daily_budget_exhausted';
    }
  | { readonly status: 'not_connected' }
  | { readonly status: 'unknown_call' };

/**
 * What the call path knows of a call, given again at the answer and at the
 * end: if the row written at the start is missing (that write failed), these
 * write it, so a call is charged whether or not its start was recorded.
 */
export interface CallFacts {
  readonly match: CallMatch;
  readonly startedAt: number;
  /** When the advertiser leg answered, null if it never did (given at the end). */
  readonly connectedAt?: number | null;
}

export interface BillingOptions {
  readonly calls: MarketplaceCallStore;
  readonly directory: DirectoryStore;
  readonly accounts: MarketplaceAccounts;
  readonly index: ListingIndex;
  readonly registry: MarketplaceRegistry;
  readonly metrics?: MarketplaceMetrics | undefined;
  /**
   * Runs inside the charge's transaction after every write, before the
   * commit: the crash test stops the process there.
   */
  readonly beforeCommit?: ((callId: string) => void) | undefined;
}

export class Billing {
  readonly #o: BillingOptions;

  constructor(options: BillingOptions) {
    this.#o = options;
  }

  /** Hook: a call matched to a listing started (before routing to its destination). */
  async started(callId: string, match: CallMatch, at: number): Promise<MarketplaceCall> {
    const call = this.#record(callId, match, at);
    const { calls } = this.#o;
    if (await calls.insert(call, true)) {
      this.#o.index.count(call.listingId, 'calls');
      return call;
    }
    return (await calls.get(callId)) ?? call;
  }

  /**
   * The call's row; when its start's write did not land (a database error, a
   * lost connection) and the call path gave what it knows, written now
   * (`insert … ON CONFLICT DO NOTHING`, counted once), so the answer and the
   * end still lead to the one charge.
   */
  async #row(callId: string, facts: CallFacts | undefined): Promise<MarketplaceCall | undefined> {
    const found = await this.#o.calls.get(callId);
    if (found || !facts) return found;
    return this.started(callId, facts.match, facts.startedAt);
  }

  #record(callId: string, match: CallMatch, at: number): MarketplaceCall {
    return {
      callId,
      tenant: match.tenant,
      kind: match.kind,
      listingId: match.listing.id,
      advertiserId: match.listing.advertiserId,
      publisherId: match.impression?.publisherId ?? null,
      impressionId: match.impression?.id ?? null,
      price: match.price,
      minConnectedSeconds: match.listing.minConnectedSeconds,
      day: this.#o.index.today(at),
      startedAt: at,
      connectedAt: null,
      qualifiesAt: null,
      qualifiedAt: null,
      endedAt: null,
      chargeKey: null,
      charged: 0,
      refunded: 0,
      refusal: null,
      claim: match.claim ?? null,
    };
  }

  /**
   * Hook: a call matched to a listing that could not be put through (its
   * destination refused by the trunk's rules, `match.blocked`): recorded
   * ended, with the reason, not counted as one of the listing's calls (it
   * never had the chance to answer) and never charged.
   */
  async refused(callId: string, match: CallMatch, at: number, refusal: string): Promise<void> {
    await this.#o.calls.insert({ ...this.#record(callId, match, at), endedAt: at, refusal }, false);
  }

  /**
   * Hook: the advertiser leg connected. Answers when the call qualifies: the
   * call path runs {@link qualify} then (a timer), and {@link ended} at the end.
   * With `facts`, a call whose start was not recorded is recorded now.
   */
  async connected(
    callId: string,
    at: number,
    facts?: CallFacts,
  ): Promise<{ qualifiesAt: number } | undefined> {
    const { calls } = this.#o;
    const call = await this.#row(callId, facts);
    if (!call) return undefined;
    if (call.connectedAt !== null) return { qualifiesAt: call.qualifiesAt ?? call.connectedAt };
    const qualifiesAt = at + call.minConnectedSeconds * 1000;
    if (await calls.connect(callId, this.#o.index.today(at), at, qualifiesAt)) {
      this.#o.index.count(call.listingId, 'answered');
      return { qualifiesAt };
    }
    // Connected meanwhile (another gateway, or a repeat): its time stands.
    const now = await calls.get(callId);
    return { qualifiesAt: now?.qualifiesAt ?? qualifiesAt };
  }

  /**
   * Hook: charge the call if it has been connected long enough, exactly once.
   * Safe to call any number of times, from any process sharing the database.
   */
  async qualify(callId: string, now: number): Promise<QualifyResult> {
    const { calls, metrics } = this.#o;
    const call = await calls.get(callId);
    if (!call) return { status: 'unknown_call' };
    if (call.qualifiedAt !== null) {
      metrics?.charges.inc({ result: 'duplicate' });
      return this.#duplicate(call);
    }
    if (call.connectedAt === null || call.qualifiesAt === null) {
      metrics?.charges.inc({ result: 'not_connected' });
      return { status: 'not_connected' };
    }
    if (now < call.qualifiesAt) {
      metrics?.charges.inc({ result: 'not_yet' });
      return { status: 'not_yet', qualifiesAt: call.qualifiesAt };
    }
    // Committed before the charge: the gateway was alive, the call open, at `now`. A crash
    // inside the charge's transaction leaves this proof, and `recover` charges the call
    // (without it the last heartbeat could be up to a second before `qualifiesAt`).
    await calls.heartbeat(now);
    return this.#charge(callId, now);
  }

  /**
   * Hook: the call ended. A call connected long enough is charged now if its
   * timer has not done it (a late timer must not lose a charge). With `facts`,
   * a call whose start or answer was not recorded is recorded now (then
   * charged if it was connected long enough).
   */
  async ended(callId: string, at: number, facts?: CallFacts): Promise<QualifyResult> {
    const { calls } = this.#o;
    let call = await this.#row(callId, facts);
    if (!call) return { status: 'unknown_call' };
    // The answer's write failed too (or never came): the call path saw it, and the end records it.
    if (call.connectedAt === null && facts?.connectedAt != null) {
      await this.connected(callId, facts.connectedAt);
      call = (await calls.get(callId)) ?? call;
    }
    let result: QualifyResult = { status: 'not_connected' };
    if (call.qualifiedAt !== null) result = await this.#duplicate(call);
    else if (call.qualifiesAt !== null && at >= call.qualifiesAt)
      result = await this.#charge(callId, call.qualifiesAt);
    else if (call.qualifiesAt !== null)
      result = { status: 'not_yet', qualifiesAt: call.qualifiesAt };
    await calls.setEnded(callId, at);
    return result;
  }

  /** Records that the gateway is alive (every second): recovery's bound on when calls could still be up. */
  heartbeat(now: number): Promise<void> {
    return this.#o.calls.heartbeat(now);
  }

  /**
   * At start-up: calls a crash left open are closed at the last heartbeat;
   * those connected long enough before it are charged (once: the key).
   */
  async recover(now: number, owner?: string): Promise<{ charged: number; closed: number }> {
    const { calls } = this.#o;
    // Another instance's (a survivor recovering a dead gateway's calls), else this one's.
    const own = owner === undefined ? calls : calls.ownedBy?.(owner);
    if (!own) return { charged: 0, closed: 0 };
    const aliveAt = (await own.aliveAt()) ?? now;
    let charged = 0;
    let closed = 0;
    for (const call of await own.open()) {
      if (call.qualifiedAt === null && call.qualifiesAt !== null && call.qualifiesAt <= aliveAt) {
        if ((await this.#charge(call.callId, call.qualifiesAt)).status === 'charged') charged += 1;
      }
      await calls.setEnded(call.callId, Math.max(call.startedAt, aliveAt));
      closed += 1;
    }
    return { charged, closed };
  }

  #charge(callId: string, at: number): Promise<QualifyResult> {
    return this.#o.accounts.shared ? this.#chargeShared(callId, at) : this.#chargeLocal(callId, at);
  }

  async #chargeShared(callId: string, at: number): Promise<QualifyResult> {
    const { calls, accounts, directory, metrics, index } = this.#o;
    const shared = accounts.shared;
    const call = await calls.get(callId);
    if (!call || !shared) return { status: 'unknown_call' };
    if (call.qualifiedAt !== null) return this.#duplicate(call);
    const day = index.today(at);
    // The money, the call's qualified state and the day's counts: one transaction.
    const moved = await chargeShared(shared, directory, call, day, at);
    if (moved.status === 'already_qualified') {
      // Recorded qualified by another gateway since the read above (its charge refused, charged
      // 0): nothing moved here, and the row says what was paid.
      metrics?.charges.inc({ result: 'duplicate' });
      const stored = await calls.get(callId);
      if (!stored) return { status: 'unknown_call' };
      return this.#duplicate(stored);
    }
    let recorded = moved.status === 'charged' && call.price > 0;
    if (!recorded) {
      // Refused, priced 0, or charged before (a record from before the call rows were shared):
      // the call is recorded qualified once, with what it paid.
      const paid = moved.status === 'refused' ? 0 : call.price;
      const key = moved.status !== 'refused' && call.price > 0 ? `charge:${callId}` : null;
      const r = await calls.qualify(
        callId,
        day,
        at,
        () => ({ chargeKey: key, charged: paid }),
        this.#o.beforeCommit,
      );
      recorded = r?.recorded === true;
    }
    if (moved.status === 'refused') {
      metrics?.charges.inc({ result: 'refused' });
      if (recorded) {
        index.count(call.listingId, 'qualified');
        this.#o.registry.pauseForFunds(call.listingId, moved.reason, day);
      }
      return moved;
    }
    const status = recorded && moved.status === 'charged' ? 'charged' : 'duplicate';
    metrics?.charges.inc({ result: status });
    if (status === 'charged') {
      metrics?.chargedCents.inc({ tenant: call.tenant }, call.price);
      await this.#afterCharge(call, at);
    }
    return { status, amount: call.price, transactionId: moved.transactionId };
  }

  async #chargeLocal(callId: string, at: number): Promise<QualifyResult> {
    const { calls, accounts, directory, metrics } = this.#o;
    const key = `charge:${callId}`;
    let posted: PostResult | undefined;
    // The SQLite ledger's post runs inside the call store's write transaction: one commit.
    const record = await calls.qualify(
      callId,
      this.#o.index.today(at),
      at,
      (call) => {
        const share =
          call.publisherId === null
            ? 0
            : (directory.publisher(call.publisherId)?.sharePercent ?? 0);
        if (call.price > 0)
          posted = accounts.ledger.post({
            key,
            tenant: call.tenant,
            kind: 'charge',
            postings: chargePostings(call, call.price, share),
            memo: `qualified call to listing ${call.listingId}`,
            meta: {
              callId,
              listingId: call.listingId,
              impressionId: call.impressionId,
              publisherId: call.publisherId,
              kind: call.kind,
            },
            at,
          });
        return { chargeKey: posted ? key : null, charged: call.price };
      },
      this.#o.beforeCommit,
    );
    if (!record) {
      metrics?.charges.inc({ result: 'unknown_call' });
      return { status: 'unknown_call' };
    }
    const { call } = record;
    if (!record.recorded) {
      metrics?.charges.inc({ result: 'duplicate' });
      return this.#duplicate(call);
    }
    metrics?.charges.inc({ result: 'charged' });
    metrics?.chargedCents.inc({ tenant: call.tenant }, call.price);
    await this.#afterCharge(call, at);
    return {
      status: 'charged',
      amount: call.price,
      transactionId: (posted as PostResult | undefined)?.transaction.id ?? null,
    };
  }

  /** The index learns the spend; a listing that cannot pay another call is paused with the reason. */
  async #afterCharge(call: MarketplaceCall, at: number): Promise<void> {
    const { index, registry } = this.#o;
    const day = index.today(at);
    index.addSpend(call.listingId, day, call.price);
    index.count(call.listingId, 'qualified');
    await registry.fundsChanged(call.advertiserId);
    this.checkPause(call.listingId, at);
  }

  /** Pauses the listing when its budget or its advertiser's funds cannot pay its bid. */
  checkPause(listingId: string, at: number): void {
    const { index, registry } = this.#o;
    const why = index.ineligibility(listingId, at);
    if (why === 'daily_budget_exhausted' || why === 'insufficient_funds')
      registry.pauseForFunds(listingId, why, index.today(at));
  }

  /** `POST /v1/refunds`: gives back part or all of a call's charge, ledgered, once per key. */
  refund(
    viewer: string | undefined,
    body: unknown,
    headerKey: string | undefined,
    now: number,
  ): Promise<PostResult & { amount: number }> {
    return refundCall(this.#o, viewer, body, headerKey, now);
  }

  /**
   * A call recorded qualified before: what it paid, and the charge's ledger
   * transaction (in the ledger that holds the money) when it paid anything.
   */
  async #duplicate(call: MarketplaceCall): Promise<QualifyResult> {
    const transaction = call.chargeKey
      ? await this.#o.accounts.book.transaction(call.chargeKey)
      : undefined;
    return { status: 'duplicate', amount: call.charged, transactionId: transaction?.id ?? null };
  }
}
