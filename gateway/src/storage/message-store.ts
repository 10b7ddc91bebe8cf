import type { ParleyMessage, StoredMessage } from '@parley/shared/protocol';
import type { SqliteDatabase } from './database.js';

/** The data-channel messages of each call, in the order the gateway received them. */
export interface MessageStore {
  /** Stores one message and returns it with its place in the call (seq from 1). */
  append(
    callId: string,
    from: 'visitor' | 'agent',
    message: ParleyMessage,
    at: number,
  ): StoredMessage;
  list(callId: string): StoredMessage[];
}

export class SqliteMessageStore implements MessageStore {
  readonly #append;
  readonly #list;

  constructor(db: SqliteDatabase) {
    const next = db.prepare<[string], { seq: number }>(
      'SELECT COALESCE(MAX(seq), 0) + 1 AS seq FROM messages WHERE call_id = ?',
    );
    const insert = db.prepare(
      'INSERT INTO messages (call_id, seq, sender, received_at, body) VALUES (?, ?, ?, ?, ?)',
    );
    this.#append = db.transaction((callId: string, from: string, body: string, at: number) => {
      const seq = next.get(callId)?.seq ?? 1;
      insert.run(callId, seq, from, at, body);
      return seq;
    });
    this.#list = db.prepare<
      [string],
      { seq: number; sender: string; received_at: number; body: string }
    >('SELECT seq, sender, received_at, body FROM messages WHERE call_id = ? ORDER BY seq');
  }

  append(
    callId: string,
    from: 'visitor' | 'agent',
    message: ParleyMessage,
    at: number,
  ): StoredMessage {
    const seq = this.#append(callId, from, JSON.stringify(message), at);
    return { seq, from, receivedAt: new Date(at).toISOString(), message };
  }

  list(callId: string): StoredMessage[] {
    return this.#list.all(callId).map((row) => ({
      seq: row.seq,
      from: row.sender as 'visitor' | 'agent',
      receivedAt: new Date(row.received_at).toISOString(),
      message: JSON.parse(row.body) as ParleyMessage,
    }));
  }
}
