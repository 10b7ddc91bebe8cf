/**
 * The callback fee (S5: "the advertiser is charged an advertisement fee in
 * response to establishing a connection"): charged when the advertiser leg
 * connects, exactly once, in the marketplace's ledger.
 *
 * Two writes, each one transaction: first the connection (`connectedAt`),
 * then the charge (the ledger's balanced postings under the key
 * `callback:<id>` together with the record's `chargedAt`). A crash between
 * them leaves a connected, uncharged callback that the next start charges
 * ({@link CallbackFees.charge} again); a crash inside the charge leaves no
 * trace of it, and the same recovery charges it; the key makes every repeat
 * a no-op. An advertiser who cannot pay is never called ({@link canPay}).
 */
import type { CallbackBilling } from './marketplace-ports.js';
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
  connected(record: CallbackRecord, at: number): CallbackRecord {
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
  charge(record: CallbackRecord): CallbackRecord {
    const { store, billing } = this.#o;
    const key = chargeKey(record.id);
    const result = store.atomically(() => {
      // Read again under the write lock: a repeat (or another process) may have charged it.
      const current = store.get(record.id) ?? record;
      if (current.chargedAt !== null || current.connectedAt === null)
        return { record: current, outcome: 'duplicate' as const };
      const at = this.#o.now();
      const payable = current.feeCents > 0 && current.advertiserId !== null && billing;
      let transactionId: number | null = null;
      if (payable) {
        transactionId = billing.post({
          key,
          tenant: current.tenant,
          advertiserId: current.advertiserId ?? '',
          amountCents: current.feeCents,
          meta: {
            callbackId: current.id,
            listingId: current.listingId,
            destination: current.destination,
            impressionId: current.impressionId,
          },
          at,
        }).transactionId;
      }
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
    if (result.outcome !== 'duplicate') {
      this.#o.afterCommit?.(record.id);
      if (result.outcome === 'charged' && record.advertiserId !== null)
        billing?.fundsChanged(record.advertiserId);
    }
    this.#o.onCharge?.(result.outcome, result.outcome === 'charged' ? record.feeCents : 0);
    // The live record keeps its in-memory fields (state) with the charge's.
    return { ...record, ...pick(result.record) };
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
