/**
 * The callback fee (S5: "the advertiser is charged an advertisement fee in
 * response to establishing a connection"): charged when the advertiser leg
 * connects, exactly once, in the marketplace's ledger.
 *
 * Two writes: first the connection (`connectedAt`), then the charge. A crash
 * between them leaves a connected, uncharged callback that the next start
 * charges ({@link CallbackFees.charge} again); the ledger key `callback:<id>`
 * makes every repeat a no-op. An advertiser who cannot pay is never called
 * ({@link canPay}).
 *
 * - The gateway's SQLite ledger: the postings and the record's `chargedAt`
 *   are one transaction; a crash inside it leaves no trace, and the same
 *   recovery charges it.
 * - The shared PostgreSQL ledger (`storage.kind: postgres`): the postings
 *   are committed there first (the key is unique in that table: once across
 *   gateways), then the record's `chargedAt` here. A crash between the two
 *   leaves the money moved and the record uncharged: the recovery posts
 *   again, the key answers the first transaction, and the record gets it.
 */
import type { CallbackBilling, FeePosting } from './marketplace-ports.js';
import { chargeKey, type CallbackRecord } from './model.js';
import type { CallbackStore } from './store.js';

export interface CallbackFeesOptions {
  readonly store: CallbackStore;
  readonly billing: CallbackBilling | undefined;
  readonly now: () => number;
  /** Runs inside the charge's transaction after every write, before the commit (the crash test). */
  readonly beforeCommit?: ((callbackId: string) => void) | undefined;
  /** After the charge committed (the crash test). */
  readonly afterCommit?: ((callbackId: string) => void) | undefined;
  readonly onCharge?:
    ((result: 'charged' | 'duplicate' | 'free', amount: number) => void) | undefined;
}

export class CallbackFees {
  readonly #o: CallbackFeesOptions;

  constructor(options: CallbackFeesOptions) {
    this.#o = options;
  }

  /** Whether the advertiser can pay the fee now (always, without a fee or a payer). */
  canPay(record: CallbackRecord): boolean {
    if (record.feeCents === 0 || record.advertiserId === null) return true;
    const available = this.#o.billing?.available(record.advertiserId);
    return available !== undefined && available >= record.feeCents;
  }

  /** The advertiser leg answered: the connection is written, then charged. */
  async connected(record: CallbackRecord, at: number): Promise<CallbackRecord> {
    const connected: CallbackRecord = {
      ...record,
      state: 'connected',
      connectedAt: record.connectedAt ?? at,
      updatedAt: at,
    };
    this.#o.store.save(connected);
    return this.charge(connected);
  }

  /**
   * Charges a connected callback once: safe to call any number of times, from
   * any process on the same database. Answers the record as stored after it.
   */
  async charge(record: CallbackRecord): Promise<CallbackRecord> {
    const { store, billing } = this.#o;
    const key = chargeKey(record.id);
    let shared: { transactionId: number } | undefined;
    if (billing?.ledger === 'shared') {
      const current = store.get(record.id) ?? record;
      if (current.chargedAt !== null || current.connectedAt === null)
        return this.#done(record, current, 'duplicate');
      if (this.#payable(current)) shared = await billing.post(this.#posting(current, key));
    }
    const result = store.atomically(() => {
      // Read again under the write lock: a repeat (or another process) may have charged it.
      const current = store.get(record.id) ?? record;
      if (current.chargedAt !== null || current.connectedAt === null)
        return { record: current, outcome: 'duplicate' as const };
      const at = this.#o.now();
      const payable = this.#payable(current);
      let transactionId: number | null = shared?.transactionId ?? null;
      if (payable && billing?.ledger === 'local')
        transactionId = billing.post(this.#posting(current, key)).transactionId;
      const charged: CallbackRecord = {
        ...current,
        chargedAt: at,
        chargeKey: payable ? key : null,
        chargeTransactionId: transactionId,
        updatedAt: at,
      };
      store.save(charged);
      this.#o.beforeCommit?.(current.id);
      return { record: charged, outcome: payable ? ('charged' as const) : ('free' as const) };
    });
    if (result.outcome !== 'duplicate') this.#o.afterCommit?.(record.id);
    return this.#done(record, result.record, result.outcome);
  }

  #payable(r: CallbackRecord): boolean {
    return r.feeCents > 0 && r.advertiserId !== null && this.#o.billing !== undefined;
  }

  #posting(r: CallbackRecord, key: string): FeePosting {
    return {
      key,
      tenant: r.tenant,
      advertiserId: r.advertiserId ?? '',
      amountCents: r.feeCents,
      meta: {
        callbackId: r.id,
        listingId: r.listingId,
        destination: r.destination,
        impressionId: r.impressionId,
      },
      at: this.#o.now(),
    };
  }

  #done(
    record: CallbackRecord,
    stored: CallbackRecord,
    outcome: 'charged' | 'duplicate' | 'free',
  ): CallbackRecord {
    if (outcome === 'charged' && record.advertiserId !== null)
      this.#o.billing?.fundsChanged(record.advertiserId);
    this.#o.onCharge?.(outcome, outcome === 'charged' ? record.feeCents : 0);
    // The live record keeps its in-memory fields (state) with the charge's.
    return { ...record, ...pick(stored) };
  }
}

function pick(r: CallbackRecord) {
  return {
    connectedAt: r.connectedAt,
    chargedAt: r.chargedAt,
    chargeKey: r.chargeKey,
    chargeTransactionId: r.chargeTransactionId,
    updatedAt: r.updatedAt,
  };
}
