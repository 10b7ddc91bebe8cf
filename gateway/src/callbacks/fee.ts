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
 * - The shared PostgreSQL ledger (`storage.kind: postgres`) with the
 *   callbacks in PostgreSQL too ({@link CallbackStore.chargeWrite}): the
 *   postings and the record's charge are one PostgreSQL transaction; the key
 *   (unique there) makes it once across gateways.
 * - The shared ledger with the records elsewhere (SQLite, tests): the
 *   postings are committed there first, then the record's `chargedAt`. A
 *   crash between the two leaves the money moved and the record uncharged:
 *   the recovery posts again, the key answers the first transaction, and the
 *   record gets it.
 */
import type { CallbackBilling, FeePosting } from './marketplace-ports.js';
import { chargeKey, type CallbackRecord } from './model.js';
import type { CallbackStore } from './store.js';

export interface CallbackFeesOptions {
  readonly store: CallbackStore;
  readonly billing: CallbackBilling | undefined;
  readonly now: () => number;
  /**
   * The crash tests: inside the SQLite charge's transaction before its commit;
   * with the shared ledger and the records elsewhere, between the two. Not
   * called when the mark is in the ledger's PostgreSQL transaction.
   */
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

  /**
   * The advertiser leg answered: the connection is written (by `save`: the
   * runner's writes of the callback, in order), then charged.
   */
  async connected(
    record: CallbackRecord,
    at: number,
    save: (r: CallbackRecord) => Promise<void> = (r) => this.#o.store.save(r),
  ): Promise<CallbackRecord> {
    const connected: CallbackRecord = {
      ...record,
      state: 'connected',
      connectedAt: record.connectedAt ?? at,
      updatedAt: at,
    };
    await save(connected);
    return this.charge(connected);
  }

  /**
   * Charges a connected callback once: safe to call any number of times, from
   * any process on the same database. Answers the record as stored after it.
   */
  async charge(record: CallbackRecord): Promise<CallbackRecord> {
    const { store, billing } = this.#o;
    const current = (await store.get(record.id)) ?? record;
    if (current.chargedAt !== null || current.connectedAt === null)
      return this.#done(record, current, 'duplicate');
    if (!this.#payable(current)) {
      const marked = await store.markCharged(record.id, {
        at: this.#o.now(),
        key: null,
        transactionId: null,
      });
      return this.#stored(record, current, marked ? 'free' : 'duplicate');
    }
    if (billing?.ledger === 'shared') return this.#chargeShared(record, current);
    return this.#chargeLocal(record);
  }

  /** The shared ledger: with the record's mark in its transaction when the store can (PostgreSQL). */
  async #chargeShared(record: CallbackRecord, current: CallbackRecord): Promise<CallbackRecord> {
    const { store, billing } = this.#o;
    if (billing?.ledger !== 'shared') throw new Error('not the shared ledger');
    const key = chargeKey(record.id);
    const at = this.#o.now();
    const write = store.chargeWrite?.(record.id, key, at);
    const posted = await billing.post(this.#posting(current, key), write ? [write] : []);
    // The crash tests: between the ledger's commit and a record elsewhere (no write in its transaction).
    if (!write) this.#o.beforeCommit?.(record.id);
    // Without the write (or a repeat of a key posted before): the mark follows the posting.
    const marked = await store.markCharged(record.id, {
      at,
      key,
      transactionId: posted.transactionId,
    });
    const outcome = !posted.duplicate || marked ? 'charged' : 'duplicate';
    if (outcome === 'charged') this.#o.afterCommit?.(record.id);
    return this.#stored(record, current, outcome);
  }

  /** The gateway's SQLite ledger: the postings and the record's charge in one SQLite transaction. */
  #chargeLocal(record: CallbackRecord): CallbackRecord {
    const { billing } = this.#o;
    const rows = this.#o.store.local;
    if (billing?.ledger !== 'local' || !rows)
      throw new Error('the gateway’s own ledger needs the callbacks in its SQLite file');
    const key = chargeKey(record.id);
    const result = rows.atomically(() => {
      // Read again under the write lock: a repeat (or another process) may have charged it.
      const current = rows.get(record.id) ?? record;
      if (current.chargedAt !== null || current.connectedAt === null)
        return { record: current, outcome: 'duplicate' as const };
      const at = this.#o.now();
      const { transactionId } = billing.post(this.#posting(current, key));
      rows.markCharged(current.id, { at, key, transactionId });
      this.#o.beforeCommit?.(current.id);
      return { record: rows.get(record.id) ?? current, outcome: 'charged' as const };
    });
    if (result.outcome !== 'duplicate') this.#o.afterCommit?.(record.id);
    return this.#done(record, result.record, result.outcome);
  }

  /** The outcome with the record as stored now. */
  async #stored(
    record: CallbackRecord,
    fallback: CallbackRecord,
    outcome: 'charged' | 'duplicate' | 'free',
  ): Promise<CallbackRecord> {
    return this.#done(record, (await this.#o.store.get(record.id)) ?? fallback, outcome);
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
