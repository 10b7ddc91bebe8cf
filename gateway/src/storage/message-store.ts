import type { ParleyMessage, StoredMessage } from '@parley/shared/protocol';
import type { SqliteDatabase } from './database.js';

/**
 * The data-channel messages of each call, in the order the gateway received
 * them. Only the gateway running the call appends to it, so the caller (the
 * message hub) numbers them: `seq` from 1, unique per call. Appends to one
 * call are applied in call order, and `list` sees every append asked for
 * before it (the hub writes behind).
 */
export interface MessageStore {
  /** Stores one message at its place in the call. */
  append(callId: string, message: StoredMessage): Promise<void>;
  list(callId: string): Promise<StoredMessage[]>;
}

export interface MessageRow {
  seq: number;
  sender: string;
  received_at: number;
  body: string;
}

export const messageFromRow = (row: MessageRow): StoredMessage => ({
  seq: row.seq,
  from: row.sender as 'visitor' | 'agent',
  receivedAt: new Date(row.received_at).toISOString(),
  message: JSON.parse(row.body) as ParleyMessage,
});

export class SqliteMessageStore implements MessageStore {
  readonly #insert;
  readonly #list;

  constructor(db: SqliteDatabase) {
    this.#insert = db.prepare<[string, number, string, number, string]>(
      'INSERT INTO messages (call_id, seq, sender, received_at, body) VALUES (?, ?, ?, ?, ?)',
    );
    this.#list = db.prepare<[string], MessageRow>(
      'SELECT seq, sender, received_at, body FROM messages WHERE call_id = ? ORDER BY seq',
    );
  }

  async append(callId: string, m: StoredMessage): Promise<void> {
    this.#insert.run(callId, m.seq, m.from, Date.parse(m.receivedAt), JSON.stringify(m.message));
  }

  async list(callId: string): Promise<StoredMessage[]> {
    return this.#list.all(callId).map(messageFromRow);
  }
}
