/**
 * The gated tables' rows and how they read as the stores' records: one
 * shape for SQLite and PostgreSQL (the same columns on both, see
 * `schema.ts` and `postgres/pg-schema.ts`).
 */
import type { AccountPhone, AccountStatus, Approval, StoredAccount } from '../types.js';
import type { ChargeRecord, MeterRecord } from './store.js';

export interface AccountRow {
  tenant: string;
  id: string;
  number: string;
  name: string;
  web_login: string | null;
  pin_hash: string | null;
  rate_per_minute: number;
  balance: number;
  status: string;
  created_at: number;
  updated_at: number;
}

export interface ApprovalRow {
  tenant: string;
  account_id: string;
  resident_id: string;
  status: string;
  decided_at: number | null;
  decided_by: string | null;
}

export interface MeterRow {
  call_id: string;
  tenant: string;
  account_id: string;
  rate_per_minute: number;
  connected_at: number;
  minutes_charged: number;
  state: string;
  ended_at: number | null;
  end_reason: string | null;
}

export interface ChargeRow {
  call_id: string;
  minute: number;
  account_id: string;
  amount: number;
  balance_after: number;
  at: number;
}

const STATUSES: readonly AccountStatus[] = ['active', 'suspended', 'closed'];

export const accountFromRow = (row: AccountRow, phones: AccountPhone[]): StoredAccount => ({
  tenant: row.tenant,
  id: row.id,
  number: row.number,
  name: row.name,
  phones,
  webLogin: row.web_login,
  ratePerMinute: row.rate_per_minute,
  balance: row.balance,
  status: STATUSES.find((s) => s === row.status) ?? 'suspended',
  pinSet: row.pin_hash !== null,
  pinHash: row.pin_hash,
  createdAt: row.created_at,
  updatedAt: row.updated_at,
});

export const approvalFromRow = (row: ApprovalRow): Approval => ({
  tenant: row.tenant,
  accountId: row.account_id,
  residentId: row.resident_id,
  status: row.status === 'approved' ? 'approved' : row.status === 'denied' ? 'denied' : 'pending',
  decidedAt: row.decided_at,
  decidedBy: row.decided_by,
});

export const meterFromRow = (row: MeterRow): MeterRecord => ({
  callId: row.call_id,
  tenant: row.tenant,
  accountId: row.account_id,
  ratePerMinute: row.rate_per_minute,
  connectedAt: row.connected_at,
  minutesCharged: row.minutes_charged,
  state: row.state === 'running' ? 'running' : row.state === 'ended' ? 'ended' : 'interrupted',
  endedAt: row.ended_at,
  endReason: row.end_reason,
});

export const chargeFromRow = (row: ChargeRow): ChargeRecord => ({
  callId: row.call_id,
  minute: row.minute,
  accountId: row.account_id,
  amount: row.amount,
  balanceAfter: row.balance_after,
  at: row.at,
});
