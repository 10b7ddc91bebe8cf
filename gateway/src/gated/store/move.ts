/**
 * The gated module's rows kept in a gateway's SQLite file, as `parley-gateway
 * move` copies them into PostgreSQL (`storage/postgres/sqlite-move.ts`): every
 * table, the wrong-PIN counts too (`gated_pin_attempts`: a lockout, or the
 * failures counted towards one, holds on PostgreSQL, so forcing a move gives
 * no fresh tries; a subject PostgreSQL counts too keeps the stricter of the
 * two: the most failures, the latest failure, the latest lockout end).
 * Keys are kept (ids, credit keys, `(call_id, minute)`, a decision's id), so
 * balances, credits and charges land exactly once. A decision and an audit
 * entry get PostgreSQL's next `seq` (another gateway's may hold the file's
 * numbers), in the file's order; an audit entry, which has no other key, is
 * recognised by its content. A meter gets this gateway as its `owner` (a
 * running one is closed by its start-up recovery, as after a stop).
 */
import type { MovedTable } from '../../storage/postgres/index.js';

export function gatedMoveTables(owner: string, now = Date.now()): readonly MovedTable[] {
  return [
    {
      table: 'gated_residents',
      columns: ['tenant', 'id', 'name', 'number', 'status', 'pin_hash', 'created_at', 'updated_at'],
      key: ['tenant', 'id'],
      order: 'tenant, id',
    },
    {
      table: 'gated_devices',
      columns: [
        'tenant',
        'address',
        'kind',
        'name',
        'sip_user',
        'enabled',
        'calling_hours',
        'blocked_until',
        'realm',
        'ha1_md5',
        'ha1_sha256',
        'credential_stamp',
        'created_at',
        'updated_at',
      ],
      key: ['tenant', 'address'],
      order: 'tenant, address',
      booleans: ['enabled'],
    },
    {
      table: 'gated_resident_devices',
      columns: ['tenant', 'resident_id', 'address'],
      key: ['tenant', 'resident_id', 'address'],
      order: 'tenant, resident_id, address',
    },
    {
      table: 'gated_accounts',
      columns: [
        'tenant',
        'id',
        'number',
        'name',
        'web_login',
        'pin_hash',
        'rate_per_minute',
        'balance',
        'status',
        'created_at',
        'updated_at',
      ],
      key: ['tenant', 'id'],
      order: 'tenant, id',
    },
    {
      table: 'gated_account_phones',
      columns: ['tenant', 'account_id', 'number', 'verified_at'],
      key: ['tenant', 'account_id', 'number'],
      order: 'tenant, account_id, number',
    },
    {
      table: 'gated_account_residents',
      columns: ['tenant', 'account_id', 'resident_id', 'status', 'decided_at', 'decided_by'],
      key: ['tenant', 'account_id', 'resident_id'],
      order: 'tenant, account_id, resident_id',
    },
    {
      table: 'gated_credits',
      columns: ['tenant', 'key', 'account_id', 'amount', 'balance_after', 'note', 'actor', 'at'],
      key: ['tenant', 'key'],
      order: 'at, tenant, key',
    },
    {
      table: 'gated_meters',
      columns: [
        'call_id',
        'tenant',
        'account_id',
        'rate_per_minute',
        'connected_at',
        'minutes_charged',
        'state',
        'ended_at',
        'end_reason',
      ],
      key: ['call_id'],
      order: 'connected_at, call_id',
      extra: { owner },
    },
    {
      table: 'gated_charges',
      columns: ['call_id', 'minute', 'tenant', 'account_id', 'amount', 'balance_after', 'at'],
      key: ['call_id', 'minute'],
      order: 'call_id, minute',
    },
    {
      table: 'gated_decisions',
      columns: [
        'id',
        'tenant',
        'call_id',
        'stage',
        'at',
        'allowed',
        'decided_by',
        'failed',
        'account_id',
        'resident_id',
        'body',
      ],
      key: ['id'],
      order: 'seq',
      booleans: ['allowed'],
    },
    {
      table: 'gated_pin_attempts',
      columns: ['subject', 'failures', 'last_failure_at', 'locked_until'],
      key: ['subject'],
      order: 'subject',
      // As the guard counts (pg-records.ts): a lockout that has ended starts the
      // count again, so its side's failures count for nothing; a running one holds.
      merge: {
        failures: `GREATEST(CASE WHEN t.locked_until <= ${now} THEN 0 ELSE t.failures END,
                            CASE WHEN excluded.locked_until <= ${now} THEN 0 ELSE excluded.failures END)`,
        last_failure_at: 'GREATEST(t.last_failure_at, excluded.last_failure_at)',
        // GREATEST skips NULL: a running lockout on either side holds.
        locked_until: `CASE WHEN GREATEST(t.locked_until, excluded.locked_until) > ${now}
                       THEN GREATEST(t.locked_until, excluded.locked_until) END`,
      },
    },
    {
      table: 'gated_audit',
      columns: ['tenant', 'at', 'actor', 'action', 'entity', 'entity_id', 'before', 'after'],
      key: 'content',
      order: 'seq',
    },
  ];
}
