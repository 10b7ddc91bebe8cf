/**
 * The impression log in PostgreSQL (`storage.kind: postgres`), shared by the
 * gateways: an impression placed through one is found by a call that reaches
 * another (a tracking number's holder, a web call's sealed reference, a
 * device's log entries for call-entry matching). The same contract as
 * `SqliteImpressionStore` (`impression-store.postgres.test.ts` runs both).
 */
import type { PgPool } from '../../storage/postgres/index.js';
import { inTransaction } from '../../storage/postgres/index.js';
import { impressionOf, type ImpressionRow } from '../impression-row.js';
import type { ImpressionStore, LogEntry, PlacementRecord } from '../impression-store.js';
import type { Impression } from '../model.js';

const COLUMNS =
  'id, tenant, placement_id, listing_id, advertiser_id, publisher_id, slot, price, bid, quality, device_id, page, number, number_kind, lease_start, lease_end, created_at';

export class PgImpressionStore implements ImpressionStore {
  readonly #pool: PgPool;

  constructor(pool: PgPool) {
    this.#pool = pool;
  }

  async logPlacement(
    p: PlacementRecord,
    impressions: readonly Impression[],
    day: string,
  ): Promise<void> {
    await inTransaction(this.#pool, async (client) => {
      await client.query(
        `INSERT INTO mp_placements (id, tenant, publisher_id, category, region, slots, device_id, page, decision, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
        [
          p.id,
          p.tenant,
          p.publisherId,
          p.category,
          p.region,
          p.slots,
          p.deviceId,
          p.page,
          JSON.stringify(p.decision),
          p.createdAt,
        ],
      );
      if (impressions.length === 0) return;
      // One statement for the slots: a placement costs two round trips, not one per slot.
      const column = <K extends keyof Impression>(k: K) => impressions.map((i) => i[k]);
      await client.query(
        `INSERT INTO mp_impressions (${COLUMNS})
         SELECT * FROM UNNEST($1::TEXT[], $2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[], $6::TEXT[],
           $7::INT[], $8::BIGINT[], $9::BIGINT[], $10::FLOAT8[], $11::TEXT[], $12::TEXT[], $13::TEXT[],
           $14::TEXT[], $15::BIGINT[], $16::BIGINT[], $17::BIGINT[])`,
        [
          column('id'),
          column('tenant'),
          column('placementId'),
          column('listingId'),
          column('advertiserId'),
          column('publisherId'),
          column('slot'),
          column('price'),
          column('bid'),
          column('quality'),
          column('deviceId'),
          column('page'),
          column('number'),
          column('numberKind'),
          column('leaseStart'),
          column('leaseEnd'),
          column('createdAt'),
        ],
      );
      // The day's impression counts of the cluster (reports), in the placement's transaction.
      await client.query(
        `INSERT INTO mp_daily (day, tenant, listing_id, advertiser_id, publisher_id, impressions)
         SELECT $1::TEXT, tenant, listing_id, advertiser_id, publisher_id, COUNT(*)
         FROM UNNEST($2::TEXT[], $3::TEXT[], $4::TEXT[], $5::TEXT[]) AS i(tenant, listing_id, advertiser_id, publisher_id)
         GROUP BY tenant, listing_id, advertiser_id, publisher_id
         ON CONFLICT (day, listing_id, publisher_id) DO UPDATE SET impressions = mp_daily.impressions + excluded.impressions`,
        [day, column('tenant'), column('listingId'), column('advertiserId'), column('publisherId')],
      );
    });
  }

  async impression(id: string): Promise<Impression | undefined> {
    return this.#one(`SELECT ${COLUMNS} FROM mp_impressions WHERE id = $1`, [id]);
  }

  async placement(id: string): Promise<PlacementRecord | undefined> {
    const { rows } = await this.#pool.query<{
      id: string;
      tenant: string;
      publisher_id: string;
      category: string;
      region: string;
      slots: number;
      device_id: string;
      page: string | null;
      decision: string;
      created_at: number;
    }>('SELECT * FROM mp_placements WHERE id = $1', [id]);
    const r = rows[0];
    return r
      ? {
          id: r.id,
          tenant: r.tenant,
          publisherId: r.publisher_id,
          category: r.category,
          region: r.region,
          slots: r.slots,
          deviceId: r.device_id,
          page: r.page,
          decision: JSON.parse(r.decision) as Record<string, unknown>,
          createdAt: r.created_at,
        }
      : undefined;
  }

  async byPlacement(placementId: string): Promise<Impression[]> {
    return this.#all(
      `SELECT ${COLUMNS} FROM mp_impressions WHERE placement_id = $1 ORDER BY slot`,
      [placementId],
    );
  }

  async holderAt(number: string, at: number): Promise<Impression | undefined> {
    return this.#one(
      `SELECT ${COLUMNS} FROM mp_impressions WHERE number = $1 AND lease_start <= $2
       ORDER BY lease_start DESC, seq DESC LIMIT 1`,
      [number, at],
    );
  }

  async latestByDevices(
    tenant: string,
    deviceIds: readonly string[],
    since: number,
    at: number,
  ): Promise<Map<string, Impression>> {
    return this.#perDevice(
      deviceIds,
      `SELECT ${COLUMNS} FROM mp_impressions WHERE tenant = $2 AND device_id = d.device_id
       AND lease_start >= $3 AND lease_start <= $4 ORDER BY lease_start DESC, seq DESC LIMIT 1`,
      [tenant, since, at],
    );
  }

  async logEntries(
    tenant: string,
    deviceId: string,
    since: number,
    at: number,
    limit: number,
  ): Promise<LogEntry[]> {
    const { rows } = await this.#pool.query<LogEntry>(
      `SELECT id, listing_id AS "listingId", number, lease_start AS "leaseStart" FROM mp_impressions
       WHERE tenant = $1 AND device_id = $2 AND lease_start >= $3 AND lease_start <= $4
       ORDER BY lease_start DESC LIMIT $5`,
      [tenant, deviceId, since, at, limit],
    );
    return rows;
  }

  async logEntriesOfDevices(
    tenant: string,
    deviceIds: readonly string[],
    since: number,
    until: number,
    perDevice: number,
  ): Promise<Map<string, LogEntry[]>> {
    const out = new Map<string, LogEntry[]>();
    if (deviceIds.length === 0) return out;
    // One index seek per device (LATERAL), each capped in the database.
    const { rows } = await this.#pool.query<LogEntry & { deviceId: string }>(
      `SELECT d.device_id AS "deviceId", m.id, m.listing_id AS "listingId", m.number,
         m.lease_start AS "leaseStart"
       FROM UNNEST($1::TEXT[]) WITH ORDINALITY AS d(device_id, k)
       CROSS JOIN LATERAL (
         SELECT id, listing_id, number, lease_start FROM mp_impressions
         WHERE tenant = $2 AND device_id = d.device_id AND lease_start >= $3 AND lease_start <= $4
         ORDER BY lease_start DESC LIMIT $5
       ) m
       ORDER BY d.k, m.lease_start DESC`,
      [deviceIds, tenant, since, until, perDevice],
    );
    for (const { deviceId, ...entry } of rows) {
      let list = out.get(deviceId);
      if (!list) out.set(deviceId, (list = []));
      list.push(entry);
    }
    return out;
  }

  async firstLogEntryStarts(
    tenant: string,
    deviceIds: readonly string[],
  ): Promise<Map<string, number>> {
    if (deviceIds.length === 0) return new Map();
    const { rows } = await this.#pool.query<{ deviceId: string; first: number | null }>(
      `SELECT d.device_id AS "deviceId", (SELECT lease_start FROM mp_impressions
         WHERE tenant = $2 AND device_id = d.device_id AND lease_start >= 0 ORDER BY lease_start LIMIT 1) AS first
       FROM UNNEST($1::TEXT[]) AS d(device_id)`,
      [deviceIds, tenant],
    );
    return new Map(rows.flatMap((r) => (r.first === null ? [] : [[r.deviceId, r.first] as const])));
  }

  async impressionIdAt(
    number: string,
    at: number,
  ): Promise<{ id: string; listingId: string } | undefined> {
    const { rows } = await this.#pool.query<{ id: string; listingId: string }>(
      `SELECT id, listing_id AS "listingId" FROM mp_impressions WHERE number = $1 AND lease_start <= $2
       ORDER BY lease_start DESC, seq DESC LIMIT 1`,
      [number, at],
    );
    return rows[0];
  }

  async impressionIdsAt(
    lookups: readonly (readonly [string, number])[],
  ): Promise<(string | undefined)[]> {
    if (lookups.length === 0) return [];
    const { rows } = await this.#pool.query<{ k: number; id: string | null }>(
      `SELECT q.k, (SELECT id FROM mp_impressions m WHERE m.number = q.number AND m.lease_start <= q.at
                    ORDER BY m.lease_start DESC, m.seq DESC LIMIT 1) AS id
       FROM UNNEST($1::TEXT[], $2::BIGINT[]) WITH ORDINALITY AS q(number, at, k)`,
      [lookups.map((l) => l[0]), lookups.map((l) => l[1])],
    );
    const byK = new Map(rows.map((r) => [Number(r.k), r.id ?? undefined]));
    return lookups.map((_, i) => byK.get(i + 1));
  }

  async latestOfListing(
    listingId: string,
    deviceIds: readonly string[],
    at: number,
  ): Promise<Map<string, Impression>> {
    return this.#perDevice(
      deviceIds,
      `SELECT ${COLUMNS} FROM mp_impressions WHERE listing_id = $2 AND device_id = d.device_id
       AND lease_start <= $3 ORDER BY lease_start DESC, seq DESC LIMIT 1`,
      [listingId, at],
    );
  }

  /** One query for several devices: `latest` (over `d.device_id`, parameters from $2) per device. */
  async #perDevice(
    deviceIds: readonly string[],
    latest: string,
    params: unknown[],
  ): Promise<Map<string, Impression>> {
    const out = new Map<string, Impression>();
    if (deviceIds.length === 0) return out;
    const { rows } = await this.#pool.query<ImpressionRow & { device: string }>(
      `SELECT d.device_id AS device, m.* FROM UNNEST($1::TEXT[]) AS d(device_id)
       CROSS JOIN LATERAL (${latest}) m`,
      [deviceIds, ...params],
    );
    for (const r of rows) out.set(r.device, impressionOf(r));
    return out;
  }

  async leaseHistory(tenant: string): Promise<{ number: string; end: number }[]> {
    const { rows } = await this.#pool.query<{ number: string; end: number }>(
      `SELECT number, MAX(lease_end) AS "end" FROM mp_impressions
       WHERE tenant = $1 AND number_kind = 'leased' GROUP BY number`,
      [tenant],
    );
    return rows;
  }

  async list(filter: {
    tenant?: string;
    publisherId?: string;
    listingId?: string;
    limit: number;
  }): Promise<Impression[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    for (const [column, value] of [
      ['tenant', filter.tenant],
      ['publisher_id', filter.publisherId],
      ['listing_id', filter.listingId],
    ] as const) {
      if (value === undefined) continue;
      params.push(value);
      where.push(`${column} = $${params.length}`);
    }
    params.push(filter.limit);
    return this.#all(
      `SELECT ${COLUMNS} FROM mp_impressions ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
       ORDER BY created_at DESC, seq DESC LIMIT $${params.length}`,
      params,
    );
  }

  async #one(sql: string, params: unknown[]): Promise<Impression | undefined> {
    const { rows } = await this.#pool.query<ImpressionRow>(sql, params);
    return rows[0] ? impressionOf(rows[0]) : undefined;
  }

  async #all(sql: string, params: unknown[]): Promise<Impression[]> {
    const { rows } = await this.#pool.query<ImpressionRow>(sql, params);
    return rows.map(impressionOf);
  }
}
