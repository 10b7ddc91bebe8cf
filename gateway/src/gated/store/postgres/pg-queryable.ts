import type { QueryResult, QueryResultRow } from 'pg';

/**
 * Where a gated store's statements go: the pool (each statement on its own),
 * or one connection in a transaction (`GatedStore.transaction`). Both
 * `PgPool` and `PgClient` are.
 */
export interface PgQueryable {
  query<R extends QueryResultRow = QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<QueryResult<R>>;
}
