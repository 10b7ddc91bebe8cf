/**
 * The marketplace's rows kept in a gateway's SQLite file, as `parley-gateway
 * move` copies them into PostgreSQL (`storage/postgres/sqlite-move.ts`),
 * after the ledger (module `ledger`, `ledger/move.ts`): the directory
 * (advertisers, publishers, listings), placements, the impression log (in
 * batches: it can hold millions), calls, daily counts and call entries, with
 * their keys. PostgreSQL's tables the file lacks are made from its own: the
 * listings' daily spend (net of refunds, as the file's daily counts hold it),
 * the listings' counts over all time (quality scores), this gateway's last
 * heartbeat (the bound of its open calls' recovery). Calls get this gateway
 * as `owner`. An impression gets PostgreSQL's next `seq`, in the file's
 * order. The sealing key is copied when PostgreSQL has none; a cluster's key
 * already there is kept (references the file's gateway sealed then no longer
 * open: their calls go through unattributed). The tracking-number leases
 * still running (in memory on SQLite, rebuilt from the impression log) go to
 * PostgreSQL's `mp_number_leases`, the later end kept where a gateway of the
 * cluster holds the number already: otherwise a number this gateway's
 * impression still holds would be free there (the pool's start only adds
 * the numbers it lacks) and a second impression, on any gateway, would take
 * it and its calls. Leases that ended need not move.
 */
import type { SqliteDatabase } from '../storage/index.js';
import { refuseUnmoved, type MovedTable } from '../storage/postgres/index.js';

const quoted = (s: string) => `'${s.replace(/'/g, "''")}'`;

export function marketplaceMoveTables(owner: string, now = Date.now()): readonly MovedTable[] {
  const stamps = ['created_at', 'updated_at'];
  return [
    {
      table: 'mp_advertisers',
      columns: ['id', 'tenant', 'name', 'external_id', 'billing', 'credit_limit', ...stamps],
      key: ['id'],
      order: 'created_at, id',
    },
    {
      table: 'mp_publishers',
      columns: [
        'id',
        'tenant',
        'name',
        'placement_key',
        'origins',
        'share_percent',
        'status',
        ...stamps,
      ],
      key: ['id'],
      order: 'created_at, id',
    },
    {
      table: 'mp_listings',
      columns: [
        'id',
        'tenant',
        'advertiser_id',
        'title',
        'description',
        'category',
        'region',
        'schedule',
        'destination',
        'bid',
        'daily_budget',
        'min_connected_seconds',
        'static_number',
        'status',
        'pause_reason',
        'paused_day',
        ...stamps,
      ],
      key: ['id'],
      order: 'created_at, id',
    },
    {
      table: 'mp_listing_spend',
      columns: ['listing_id', 'day', 'spent'],
      from: `SELECT listing_id, day, SUM(spend) AS spent FROM mp_daily
             GROUP BY listing_id, day HAVING SUM(spend) > 0 ORDER BY day, listing_id`,
      source: 'mp_daily',
      key: ['listing_id', 'day'],
      order: 'day, listing_id',
    },
    {
      table: 'mp_keys',
      columns: ['name', 'secret'],
      key: ['name'],
      order: 'name',
      keepDifferent: true,
    },
    {
      table: 'mp_placements',
      columns: [
        'id',
        'tenant',
        'publisher_id',
        'category',
        'region',
        'slots',
        'device_id',
        'page',
        'decision',
        'created_at',
      ],
      key: ['id'],
      order: 'rowid',
    },
    {
      table: 'mp_impressions',
      columns: [
        'id',
        'tenant',
        'placement_id',
        'listing_id',
        'advertiser_id',
        'publisher_id',
        'slot',
        'price',
        'bid',
        'quality',
        'device_id',
        'page',
        'number',
        'number_kind',
        'lease_start',
        'lease_end',
        'created_at',
      ],
      key: ['id'],
      // The log's order (seq orders the impressions of one millisecond).
      order: 'rowid',
    },
    {
      table: 'mp_calls',
      columns: [
        'call_id',
        'tenant',
        'kind',
        'listing_id',
        'advertiser_id',
        'publisher_id',
        'impression_id',
        'price',
        'min_connected_seconds',
        'day',
        'started_at',
        'connected_at',
        'qualifies_at',
        'qualified_at',
        'ended_at',
        'charge_key',
        'charged',
        'refunded',
        'refusal',
        'claim',
      ],
      key: ['call_id'],
      order: 'started_at, call_id',
      extra: { owner },
    },
    {
      table: 'mp_daily',
      columns: [
        'day',
        'tenant',
        'listing_id',
        'advertiser_id',
        'publisher_id',
        'impressions',
        'calls',
        'answered',
        'qualified',
        'spend',
      ],
      key: ['day', 'listing_id', 'publisher_id'],
      order: 'day, listing_id, publisher_id',
    },
    {
      table: 'mp_listing_stats',
      columns: ['listing_id', 'calls', 'answered', 'qualified'],
      from: `SELECT listing_id, SUM(calls) AS calls, SUM(answered) AS answered,
               SUM(qualified) AS qualified FROM mp_daily GROUP BY listing_id ORDER BY listing_id`,
      key: ['listing_id'],
      order: 'listing_id',
    },
    {
      table: 'mp_call_entries',
      columns: [
        'tenant',
        'entry_id',
        'status',
        'reason',
        'impression_id',
        'device_id',
        'number',
        'started_at',
        'duration_seconds',
        'data',
        'received_at',
      ],
      key: ['tenant', 'entry_id'],
      order: 'received_at, tenant, entry_id',
    },
    {
      table: 'mp_number_leases',
      columns: ['number', 'tenant', 'lease_end'],
      // The tenant of a number's latest lease (SQLite takes the bare column from the MAX row).
      from: `SELECT number, tenant, MAX(lease_end) AS lease_end FROM mp_impressions
             WHERE number_kind = 'leased' AND number IS NOT NULL AND lease_end > ${now}
             GROUP BY number ORDER BY number`,
      key: ['number'],
      order: 'number',
      merge: { lease_end: 'GREATEST(t.lease_end, excluded.lease_end)' },
      // Leased meanwhile by a gateway of the cluster to another impression (its lease
      // still running, another end), or the number is in another tenant's pool:
      // merging would hand one number to two impressions.
      conflictIf: (held, row) =>
        held['tenant'] !== row['tenant'] ||
        (Number(held['lease_end']) > now && Number(held['lease_end']) !== Number(row['lease_end'])),
    },
    {
      table: 'mp_heartbeats',
      columns: ['owner', 'alive_at'],
      from: `SELECT ${quoted(owner)} AS owner, alive_at FROM mp_heartbeat`,
      key: ['owner'],
      order: 'owner',
      keepDifferent: true,
    },
  ];
}

/**
 * On PostgreSQL, a file whose marketplace rows are not moved: started, the
 * gateway would place none of its listings, attribute none of its
 * impressions and report none of its calls.
 */
export function refuseUnmovedMarketplace(db: SqliteDatabase): void {
  const row = db
    .prepare<[], Record<string, number>>(
      `SELECT (SELECT count(*) FROM mp_advertisers) AS advertisers,
              (SELECT count(*) FROM mp_publishers) AS publishers,
              (SELECT count(*) FROM mp_listings) AS listings,
              (SELECT count(*) FROM mp_impressions) AS impressions,
              (SELECT count(*) FROM mp_calls) AS calls,
              (SELECT count(*) FROM mp_call_entries) AS "call entries"`,
    )
    .get();
  refuseUnmoved(
    db,
    'marketplace',
    row ?? {},
    'listings not placed, impressions not attributed, calls not reported',
  );
}
