/**
 * Balances and per-minute charges on SQLite. Every money movement is one
 * IMMEDIATE transaction (the write lock taken at its start, so two processes
 * never interleave a read and a write) holding the balance change, its row and
 * its idempotency key: a crash leaves either all of it or none, and a retry
 * with the same key (a credit's key; a call and minute) changes nothing. The
 * balance cannot go below zero (a CHECK, and the guarded UPDATE).
 */
import type { SqliteDatabase } from '../../storage/index.js';
import type {
  BillingStore,
  ChargeRecord,
  ChargeResult,
  Credit,
  CreditResult,
  MeterRecord,
  MinuteCharge,
} from './store.js';
import { chargeFromRow, meterFromRow, type ChargeRow, type MeterRow } from './rows.js';

/** Thrown inside a transaction to roll it back without an error reaching the caller. */
const ROLLBACK = Symbol('rollback');

export class SqliteBillingStore implements BillingStore {
  readonly #credit: (credit: Credit) => CreditResult;
  readonly #open: (meter: Parameters<BillingStore['openMeter']>[0]) => ChargeResult;
  readonly #charge: (charge: MinuteCharge) => ChargeResult;
  readonly #close: (callId: string, at: number, reason: string) => MeterRecord | undefined;
  readonly #meter;
  readonly #interrupted;
  readonly #charges;
  readonly #accountCharges;

  constructor(db: SqliteDatabase) {
    const balance = db
      .prepare<[string, string], number>(
        'SELECT balance FROM gated_accounts WHERE tenant = ? AND id = ?',
      )
      .pluck();
    const move = db
      .prepare<[number, string, string, number], number>(
        `UPDATE gated_accounts SET balance = balance + ?
         WHERE tenant = ? AND id = ? AND balance + ? >= 0 RETURNING balance`,
      )
      .pluck();
    const creditByKey = db.prepare<
      [string, string],
      { account_id: string; amount: number; balance_after: number }
    >('SELECT account_id, amount, balance_after FROM gated_credits WHERE tenant = ? AND key = ?');
    const insertCredit = db.prepare(
      `INSERT INTO gated_credits (tenant, key, account_id, amount, balance_after, note, actor, at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const meter = db.prepare<[string], MeterRow>('SELECT * FROM gated_meters WHERE call_id = ?');
    const insertMeter = db.prepare(
      `INSERT INTO gated_meters (call_id, tenant, account_id, rate_per_minute, connected_at, minutes_charged, state)
       VALUES (?, ?, ?, ?, ?, 0, 'running')`,
    );
    const chargeRow = db.prepare<[string, number], ChargeRow>(
      'SELECT * FROM gated_charges WHERE call_id = ? AND minute = ?',
    );
    const insertCharge = db.prepare(
      `INSERT INTO gated_charges (call_id, minute, tenant, account_id, amount, balance_after, at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    const countMinute = db.prepare(
      'UPDATE gated_meters SET minutes_charged = ? WHERE call_id = ? AND minutes_charged = ?',
    );
    const closeMeter = db.prepare<[number, string, string], MeterRow>(
      `UPDATE gated_meters SET state = 'ended', ended_at = ?, end_reason = ?
       WHERE call_id = ? AND state = 'running' RETURNING *`,
    );
    this.#meter = meter;
    this.#interrupted = db.prepare<[number], MeterRow>(
      `UPDATE gated_meters SET state = 'interrupted', ended_at = ?, end_reason = 'gateway_restart'
       WHERE state = 'running' RETURNING *`,
    );
    this.#charges = db.prepare<[string, string], ChargeRow>(
      'SELECT * FROM gated_charges WHERE tenant = ? AND call_id = ? ORDER BY minute',
    );
    this.#accountCharges = db.prepare<[string, string, number], ChargeRow>(
      'SELECT * FROM gated_charges WHERE tenant = ? AND account_id = ? ORDER BY at DESC, minute DESC LIMIT ?',
    );

    const chargeOne = (c: MinuteCharge): ChargeResult => {
      const done = chargeRow.get(c.callId, c.minute);
      if (done)
        return { ok: true, balance: balance.get(c.tenant, c.accountId) ?? 0, duplicate: true };
      const running = meter.get(c.callId);
      if (!running || running.state !== 'running' || running.tenant !== c.tenant)
        return { ok: false, reason: 'no_meter' };
      if (c.minute !== running.minutes_charged + 1)
        throw new RangeError(
          `minute ${c.minute} of call ${c.callId} out of order (charged: ${running.minutes_charged})`,
        );
      const after = move.get(-c.amount, c.tenant, c.accountId, -c.amount);
      if (after === undefined)
        return {
          ok: false,
          reason: balance.get(c.tenant, c.accountId) === undefined ? 'no_account' : 'insufficient',
        };
      insertCharge.run(c.callId, c.minute, c.tenant, c.accountId, c.amount, after, c.at);
      countMinute.run(c.minute, c.callId, c.minute - 1);
      return { ok: true, balance: after, duplicate: false };
    };

    // A refused charge rolls back: nothing of it stays (not even the meter row it opened).
    const run = (work: () => ChargeResult): ChargeResult => {
      let result: ChargeResult = { ok: false, reason: 'no_meter' };
      try {
        db.transaction(() => {
          result = work();
          if (!result.ok) throw ROLLBACK;
        }).immediate();
      } catch (error) {
        if (error !== ROLLBACK) throw error;
      }
      return result;
    };
    this.#charge = (c) => run(() => chargeOne(c));
    this.#open = (m) =>
      run(() => {
        const existing = meter.get(m.callId);
        if (existing) {
          return {
            ok: true,
            balance: balance.get(existing.tenant, existing.account_id) ?? 0,
            duplicate: true,
          };
        }
        insertMeter.run(m.callId, m.tenant, m.accountId, m.ratePerMinute, m.connectedAt);
        return chargeOne({
          tenant: m.tenant,
          accountId: m.accountId,
          callId: m.callId,
          minute: 1,
          amount: m.ratePerMinute,
          at: m.connectedAt,
        });
      });
    this.#credit = (c) => {
      let result: CreditResult = { ok: false, reason: 'no_account' };
      try {
        db.transaction(() => {
          const previous = creditByKey.get(c.tenant, c.key);
          if (previous) {
            result =
              previous.account_id === c.accountId && previous.amount === c.amount
                ? { ok: true, balance: balance.get(c.tenant, c.accountId) ?? 0, duplicate: true }
                : { ok: false, reason: 'key_reused' };
            return;
          }
          const after = move.get(c.amount, c.tenant, c.accountId, c.amount);
          if (after === undefined) {
            result = {
              ok: false,
              reason:
                balance.get(c.tenant, c.accountId) === undefined ? 'no_account' : 'insufficient',
            };
            throw ROLLBACK;
          }
          insertCredit.run(c.tenant, c.key, c.accountId, c.amount, after, c.note, c.actor, c.at);
          result = { ok: true, balance: after, duplicate: false };
        }).immediate();
      } catch (error) {
        if (error !== ROLLBACK) throw error;
      }
      return result;
    };
    this.#close = (callId, at, reason) => {
      const row = closeMeter.get(at, reason, callId);
      if (row) return meterFromRow(row);
      const existing = meter.get(callId);
      return existing ? meterFromRow(existing) : undefined;
    };
  }

  async credit(credit: Credit): Promise<CreditResult> {
    return this.#credit(credit);
  }

  async openMeter(meter: Parameters<BillingStore['openMeter']>[0]): Promise<ChargeResult> {
    return this.#open(meter);
  }

  async chargeMinute(charge: MinuteCharge): Promise<ChargeResult> {
    return this.#charge(charge);
  }

  async closeMeter(callId: string, at: number, reason: string): Promise<MeterRecord | undefined> {
    return this.#close(callId, at, reason);
  }

  async meter(callId: string): Promise<MeterRecord | undefined> {
    const row = this.#meter.get(callId);
    return row ? meterFromRow(row) : undefined;
  }

  async closeInterrupted(at: number): Promise<MeterRecord[]> {
    return this.#interrupted.all(at).map(meterFromRow);
  }

  async charges(tenant: string, callId: string): Promise<ChargeRecord[]> {
    return this.#charges.all(tenant, callId).map(chargeFromRow);
  }

  async accountCharges(tenant: string, accountId: string, limit: number): Promise<ChargeRecord[]> {
    return this.#accountCharges.all(tenant, accountId, limit).map(chargeFromRow);
  }
}
