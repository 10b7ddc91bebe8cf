/**
 * The core records kept in a gateway's SQLite file (call records and their
 * messages, web sessions and their numbers, API-made agents), as
 * `parley-gateway move` copies them into PostgreSQL
 * (`postgres/sqlite-move.ts`), module `core`, keys kept. A call gets this
 * gateway as `owner` (one the file left open is closed by its start, as
 * after any stop); a session's live number moves with it (PostgreSQL's
 * unique index: a number another session holds there is a conflict).
 */
import type { SqliteDatabase } from './database.js';
import { refuseUnmoved, type MovedTable } from './postgres/sqlite-move.js';

export function coreMoveTables(owner: string): readonly MovedTable[] {
  return [
    {
      table: 'sessions',
      columns: [
        'tenant',
        'session_id',
        'origin',
        'public_claims',
        'private_claims',
        'number',
        'number_fallback',
        'number_expires_at',
        'first_seen_at',
        'last_seen_at',
      ],
      key: ['tenant', 'session_id'],
      order: 'first_seen_at, tenant, session_id',
    },
    {
      table: 'calls',
      columns: [
        'id',
        'tenant',
        'session_id',
        'session_number',
        'number_fallback',
        'customer_id',
        'queue',
        'origin',
        'visitor_call_id',
        'visitor_transport',
        'visitor_source',
        'agent_call_id',
        'agent_id',
        'state',
        'outcome',
        'ended_by',
        'sip_status',
        'reason',
        'attempts',
        'media',
        'routing',
        'dialogs',
        'channel',
        'trunk',
        'called',
        'caller_number',
        'flow',
        'created_at',
        'ringing_at',
        'answered_at',
        'ended_at',
      ],
      key: ['id'],
      order: 'created_at, id',
      extra: { owner },
    },
    {
      table: 'messages',
      columns: ['call_id', 'seq', 'sender', 'received_at', 'body'],
      key: ['call_id', 'seq'],
      order: 'call_id, seq',
    },
    {
      table: 'agents',
      columns: [
        'id',
        'tenant',
        'username',
        'realm',
        'ha1_md5',
        'ha1_sha256',
        'profile',
        'created_at',
        'updated_at',
      ],
      key: ['id'],
      order: 'created_at, id',
    },
  ];
}

/**
 * On PostgreSQL, a file whose core records are not moved: started, the
 * gateway would show none of its calls' history, give its visitors' numbers
 * to others, and refuse its API-made agents' REGISTER.
 */
export function refuseUnmovedCore(db: SqliteDatabase): void {
  const row = db
    .prepare<[], Record<string, number>>(
      `SELECT (SELECT count(*) FROM calls) AS calls, (SELECT count(*) FROM messages) AS messages,
              (SELECT count(*) FROM sessions) AS sessions, (SELECT count(*) FROM agents) AS agents`,
    )
    .get();
  refuseUnmoved(db, 'core', row ?? {}, 'call history, session numbers and API-made agents lost');
}
