/**
 * Balances and per-minute charges in PostgreSQL (`storage.kind: postgres`),
 * shared by every gateway of a cluster. Every money movement is one
 * transaction holding the balance change, its row and its idempotency key
 * (a credit's key; a call and minute, the charges' primary key). The balance
 * moves by one guarded UPDATE (`balance + amount >= 0`): two gateways
 * charging the same account at once queue on its row, and the second sees
 * the first's balance, so an account is never overdrawn. A minute's charge
 * first locks its meter's row, so the same minute charged by two gateways
 * (a retried tick, a call moved) counts once.
 */
import {
  inTransaction,
  isUniqueViolation,
  type PgClient,
  type PgPool,
} from '../../../storage/postgres/index.js';
import type {
  BillingStore,
  ChargeRecord,
  ChargeResult,
  Credit,
  CreditResult,
  MeterRecord,
  MinuteCharge,
} from '../store.js';
import { chargeFromRow, meterFromRow, type ChargeRow, type MeterRow } from '../rows.js';

/** Thrown inside a transaction to roll it back; the result is the caller's answer. */
class Rollback {
  constructor(readonly result: ChargeResult | CreditResult) {}
}

const METER = `call_id, tenant, account_id, rate_per_minute, connected_at, minutes_charged, state,
  ended_at, end_reason`;

export class PgBillingStore implements BillingStore {
  readonly #pool: PgPool;
  readonly #owner: string;

  /** `owner`: this gateway's instance id, recorded on the meters it opens. */
  constructor(pool: PgPool, owner: string) {
    this.#pool = pool;
    this.#owner = owner;
  }

  /** `work` in a transaction; a {@link Rollback} rolls it back and answers its result. */
  async #atomic<R extends ChargeResult | CreditResult>(
    work: (client: PgClient) => Promise<R>,
  ): Promise<R> {
    try {
      return await inTransaction(this.#pool, work);
    } catch (error) {
      if (error instanceof Rollback) return error.result as R;
      throw error;
    }
  }

  async credit(c: Credit): Promise<CreditResult> {
    // Two credits with one key at once: the second's INSERT fails on the key
    // once the first commits, and its retry answers the first's result.
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#atomic((client) => creditOnce(client, c));
      } catch (error) {
        if (!isUniqueViolation(error) || attempt > 0) throw error;
      }
    }
  }

  openMeter(m: Parameters<BillingStore['openMeter']>[0]): Promise<ChargeResult> {
    return this.#atomic(async (client): Promise<ChargeResult> => {
      const opened = await client.query(
        `INSERT INTO gated_meters (call_id, tenant, account_id, rate_per_minute, connected_at,
           minutes_charged, state, owner)
         VALUES ($1, $2, $3, $4, $5, 0, 'running', $6) ON CONFLICT (call_id) DO NOTHING`,
        [m.callId, m.tenant, m.accountId, m.ratePerMinute, m.connectedAt, this.#owner],
      );
      if (opened.rowCount === 0) {
        const { rows } = await client.query<{ tenant: string; account_id: string }>(
          'SELECT tenant, account_id FROM gated_meters WHERE call_id = $1',
          [m.callId],
        );
        const existing = rows[0];
        return {
          ok: true,
          balance: existing ? await balanceOf(client, existing.tenant, existing.account_id) : 0,
          duplicate: true,
        };
      }
      return chargeOne(client, {
        tenant: m.tenant,
        accountId: m.accountId,
        callId: m.callId,
        minute: 1,
        amount: m.ratePerMinute,
        at: m.connectedAt,
      });
    });
  }

  chargeMinute(charge: MinuteCharge): Promise<ChargeResult> {
    return this.#atomic((client) => chargeOne(client, charge));
  }

  async closeMeter(callId: string, at: number, reason: string): Promise<MeterRecord | undefined> {
    const closed = await this.#pool.query<MeterRow>(
      `UPDATE gated_meters SET state = 'ended', ended_at = $1, end_reason = $2
       WHERE call_id = $3 AND state = 'running' RETURNING ${METER}`,
      [at, reason, callId],
    );
    if (closed.rows[0]) return meterFromRow(closed.rows[0]);
    return this.meter(callId);
  }

  async meter(callId: string): Promise<MeterRecord | undefined> {
    const { rows } = await this.#pool.query<MeterRow>(
      `SELECT ${METER} FROM gated_meters WHERE call_id = $1`,
      [callId],
    );
    return rows[0] ? meterFromRow(rows[0]) : undefined;
  }

  /** Only this gateway's meters: another gateway's running calls are its own. */
  async closeInterrupted(at: number): Promise<MeterRecord[]> {
    const { rows } = await this.#pool.query<MeterRow>(
      `UPDATE gated_meters SET state = 'interrupted', ended_at = $1, end_reason = 'gateway_restart'
       WHERE state = 'running' AND owner = $2 RETURNING ${METER}`,
      [at, this.#owner],
    );
    return rows.map(meterFromRow);
  }

  async openOwners(): Promise<string[]> {
    const { rows } = await this.#pool.query<{ owner: string }>(
      `SELECT DISTINCT owner FROM gated_meters WHERE state = 'running' AND owner <> $1`,
      [this.#owner],
    );
    return rows.map((r) => r.owner);
  }

  /** One UPDATE: two survivors at once close each meter once (the second finds none running). */
  async closeLost(owner: string, at: number): Promise<MeterRecord[]> {
    // Its own meters are this gateway's to close (`closeInterrupted`, `closeMeter`), never as lost.
    if (owner === this.#owner) return [];
    const { rows } = await this.#pool.query<MeterRow>(
      `UPDATE gated_meters SET state = 'interrupted', ended_at = $1, end_reason = 'gateway_lost'
       WHERE state = 'running' AND owner = $2 RETURNING ${METER}`,
      [at, owner],
    );
    return rows.map(meterFromRow);
  }

  async charges(tenant: string, callId: string): Promise<ChargeRecord[]> {
    const { rows } = await this.#pool.query<ChargeRow>(
      'SELECT * FROM gated_charges WHERE tenant = $1 AND call_id = $2 ORDER BY minute',
      [tenant, callId],
    );
    return rows.map(chargeFromRow);
  }

  async accountCharges(tenant: string, accountId: string, limit: number): Promise<ChargeRecord[]> {
    const { rows } = await this.#pool.query<ChargeRow>(
      `SELECT * FROM gated_charges WHERE tenant = $1 AND account_id = $2
       ORDER BY at DESC, minute DESC LIMIT $3`,
      [tenant, accountId, limit],
    );
    return rows.map(chargeFromRow);
  }
}

async function balanceOf(client: PgClient, tenant: string, accountId: string): Promise<number> {
  const { rows } = await client.query<{ balance: number }>(
    'SELECT balance FROM gated_accounts WHERE tenant = $1 AND id = $2',
    [tenant, accountId],
  );
  return rows[0]?.balance ?? 0;
}

/** The guarded move: the balance after it, or undefined (no account, or it would go below zero). */
async function move(
  client: PgClient,
  tenant: string,
  accountId: string,
  amount: number,
): Promise<number | undefined> {
  const { rows } = await client.query<{ balance: number }>(
    `UPDATE gated_accounts SET balance = balance + $1
     WHERE tenant = $2 AND id = $3 AND balance + $1 >= 0 RETURNING balance`,
    [amount, tenant, accountId],
  );
  return rows[0]?.balance;
}

async function refusal(
  client: PgClient,
  tenant: string,
  accountId: string,
): Promise<'no_account' | 'insufficient'> {
  const { rows } = await client.query(
    'SELECT 1 FROM gated_accounts WHERE tenant = $1 AND id = $2',
    [tenant, accountId],
  );
  return rows.length === 0 ? 'no_account' : 'insufficient';
}

async function chargeOne(client: PgClient, c: MinuteCharge): Promise<ChargeResult> {
  const charged = async () =>
    (
      await client.query('SELECT 1 FROM gated_charges WHERE call_id = $1 AND minute = $2', [
        c.callId,
        c.minute,
      ])
    ).rows.length > 0;
  const duplicate = async (): Promise<ChargeResult> => ({
    ok: true,
    balance: await balanceOf(client, c.tenant, c.accountId),
    duplicate: true,
  });
  if (await charged()) return duplicate();
  // The meter's row lock: one charge of a call at a time, whichever gateway charges.
  const { rows } = await client.query<MeterRow>(
    `SELECT ${METER} FROM gated_meters WHERE call_id = $1 FOR UPDATE`,
    [c.callId],
  );
  const running = rows[0];
  // A charge that committed while this one waited for the lock.
  if (await charged()) return duplicate();
  if (!running || running.state !== 'running' || running.tenant !== c.tenant)
    throw new Rollback({ ok: false, reason: 'no_meter' });
  if (c.minute !== running.minutes_charged + 1)
    throw new RangeError(
      `minute ${c.minute} of call ${c.callId} out of order (charged: ${running.minutes_charged})`,
    );
  // The meter's account, whatever the caller says: the call's minutes go to the account it opened with.
  const account = running.account_id;
  const after = await move(client, c.tenant, account, -c.amount);
  if (after === undefined)
    throw new Rollback({ ok: false, reason: await refusal(client, c.tenant, account) });
  await client.query(
    `INSERT INTO gated_charges (call_id, minute, tenant, account_id, amount, balance_after, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)`,
    [c.callId, c.minute, c.tenant, account, c.amount, after, c.at],
  );
  await client.query(
    'UPDATE gated_meters SET minutes_charged = $1 WHERE call_id = $2 AND minutes_charged = $3',
    [c.minute, c.callId, c.minute - 1],
  );
  return { ok: true, balance: after, duplicate: false };
}

async function creditOnce(client: PgClient, c: Credit): Promise<CreditResult> {
  const { rows } = await client.query<{ account_id: string; amount: number }>(
    'SELECT account_id, amount FROM gated_credits WHERE tenant = $1 AND key = $2',
    [c.tenant, c.key],
  );
  const previous = rows[0];
  if (previous)
    return previous.account_id === c.accountId && previous.amount === c.amount
      ? { ok: true, balance: await balanceOf(client, c.tenant, c.accountId), duplicate: true }
      : { ok: false, reason: 'key_reused' };
  const after = await move(client, c.tenant, c.accountId, c.amount);
  if (after === undefined)
    throw new Rollback({ ok: false, reason: await refusal(client, c.tenant, c.accountId) });
  await client.query(
    `INSERT INTO gated_credits (tenant, key, account_id, amount, balance_after, note, actor, at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [c.tenant, c.key, c.accountId, c.amount, after, c.note, c.actor, c.at],
  );
  return { ok: true, balance: after, duplicate: false };
}
