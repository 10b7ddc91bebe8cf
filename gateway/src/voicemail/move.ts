/**
 * The voicemail index kept in a gateway's SQLite file, as `parley-gateway
 * move` copies it into PostgreSQL (`storage/postgres/sqlite-move.ts`),
 * module `voicemail`, ids kept. Each WAV stays on this gateway's disk, so a
 * row the file kept without its gateway names this one (`gateway`, which
 * alone serves and deletes the file). The webhook outbox is not copied here:
 * the start moves it (`postgres/`).
 */
import type { SqliteDatabase } from '../storage/index.js';
import { refuseUnmoved, type MovedTable } from '../storage/postgres/index.js';

const COLUMNS = [
  'id',
  'call_id',
  'tenant',
  'queue',
  'agent',
  'cause',
  'status',
  'session_number',
  'session_id',
  'origin',
  'page',
  'public_claims',
  'private_claims',
  'recording_path',
  'created_at',
  'ended_at',
  'duration_ms',
  'end_reason',
  'utterances',
  'transcript',
  'transcript_error',
  'taken_by',
  'taken_at',
  'heard_at',
  'heard_by',
  'deleted_at',
];

export function voicemailMoveTables(owner: string): readonly MovedTable[] {
  const quoted = `'${owner.replace(/'/g, "''")}'`;
  return [
    {
      table: 'vm_voicemails',
      columns: [...COLUMNS, 'gateway'],
      from: `SELECT ${COLUMNS.join(', ')}, COALESCE(NULLIF(gateway, ''), ${quoted}) AS gateway
             FROM vm_voicemails ORDER BY created_at, id`,
      source: 'vm_voicemails',
      key: ['id'],
      order: 'created_at, id',
    },
  ];
}

/** On PostgreSQL, a file whose voicemail index is not moved: its messages would list as none. */
export function refuseUnmovedVoicemail(db: SqliteDatabase): void {
  const row = db
    .prepare<[], { voicemails: number }>('SELECT count(*) AS voicemails FROM vm_voicemails')
    .get();
  refuseUnmoved(db, 'voicemail', row ?? {}, 'voicemails listed as none, their WAVs unreachable');
}
