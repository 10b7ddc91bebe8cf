/**
 * The chat of the call in progress: the visitor's and agent's messages in
 * the order the gateway stored them (`seq`, whatever order they arrive in:
 * a replay after a reconnect, the stored ones loaded late), each once, and
 * the desk's own notices; the last `CHAT_HISTORY` entries are kept.
 */
import type { NavigationMessage, StoredMessage } from '@parley/shared/protocol';
import { CHAT_HISTORY } from './defaults.js';
import { describeMessage, latestPage } from './desk-text.js';
import type { ChatEntry } from './desk-view.js';

export class CallChat {
  entries: readonly ChatEntry[] = [];
  #messages: StoredMessage[] = [];
  readonly #seqs = new Set<number>();
  #notices = 0;

  /** The visitor's latest page, from the messages so far. */
  get page(): NavigationMessage | undefined {
    return latestPage(this.#messages);
  }

  /** Adds a message in its place by `seq`; false for one seen before (replays after a reconnect). */
  add(stored: StoredMessage): boolean {
    if (this.#seqs.has(stored.seq)) return false;
    this.#seqs.add(stored.seq);
    this.#messages = [...this.#messages, stored].sort((a, b) => a.seq - b.seq);
    const { from, text } = describeMessage(stored);
    const entry: ChatEntry = { key: `m${stored.seq}`, from, text };
    const entries = [...this.entries];
    const after = entries.findIndex(
      (e) => e.key.startsWith('m') && Number(e.key.slice(1)) > stored.seq,
    );
    if (after === -1) entries.push(entry);
    else entries.splice(after, 0, entry);
    this.entries = entries.slice(-CHAT_HISTORY);
    return true;
  }

  /** A line of the desk's own (a message that could not go). */
  notice(text: string): void {
    this.#notices += 1;
    this.entries = [
      ...this.entries,
      { key: `n${this.#notices}`, from: 'notice' as const, text },
    ].slice(-CHAT_HISTORY);
  }
}
