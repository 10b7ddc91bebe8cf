/**
 * The running gateway's journal mover, on a journal in memory: each tick
 * moves only what was there at the tick before (an entry whose own insert is
 * in flight is left to it), a failed move is tried again at the next tick
 * with what arrived meanwhile, and `close` waits for a running move and
 * stops the ticks.
 */
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../observability/index.js';
import { JournalMover, type JournalMove } from './journal-mover.js';

class MemoryJournal implements JournalMove {
  readonly name = 'test events';
  rows: number[] = [];
  moved: number[] = [];
  fail = false;
  #next = 1;
  /** The move waits for this when set. */
  gate: Promise<void> | undefined;

  add(): number {
    const id = this.#next++;
    this.rows.push(id);
    return id;
  }
  newest(): number {
    return this.rows.at(-1) ?? 0;
  }
  async move(upTo: number): Promise<number> {
    await this.gate;
    if (this.fail) throw new Error('database away');
    const taken = this.rows.filter((id) => id <= upTo);
    this.moved.push(...taken);
    this.rows = this.rows.filter((id) => id > upTo);
    return taken.length;
  }
}

const log = createLogger('silent');
// The timer never fires within a test: each tick is the test's own.
const HOUR = 3_600_000;

describe('JournalMover', () => {
  it('moves at each tick what was there at the one before, never what just arrived', async () => {
    const journal = new MemoryJournal();
    journal.add(); // left by a failed insert before the mover started
    const mover = new JournalMover(journal, log, HOUR);
    const young = journal.add();
    expect(await mover.tick()).toBe(1);
    expect(journal.moved).toEqual([1]);
    // Arrived after the mark: its own insert may still be in flight.
    expect(journal.rows).toEqual([young]);
    expect(await mover.tick()).toBe(1);
    expect(journal.moved).toEqual([1, young]);
    expect(await mover.tick()).toBe(0);
    await mover.close();
  });

  it('leaves alone a row its own insert deleted, and an empty journal', async () => {
    const journal = new MemoryJournal();
    const mover = new JournalMover(journal, log, HOUR);
    expect(await mover.tick()).toBe(0);
    journal.add();
    journal.rows = []; // its insert committed and deleted it
    expect(await mover.tick()).toBe(0);
    expect(journal.moved).toEqual([]);
    await mover.close();
  });

  it('tries a failed move again at the next tick, with what arrived before it', async () => {
    const journal = new MemoryJournal();
    journal.add();
    const mover = new JournalMover(journal, log, HOUR);
    journal.add();
    journal.fail = true;
    expect(await mover.tick()).toBe(0);
    journal.fail = false;
    // The old row, and the one that was there at the failed tick.
    expect(await mover.tick()).toBe(2);
    expect(journal.moved).toEqual([1, 2]);
    await mover.close();
  });

  it('runs one move at a time; close waits for it and stops the ticks', async () => {
    const journal = new MemoryJournal();
    journal.add();
    const mover = new JournalMover(journal, log, HOUR);
    let open!: () => void;
    journal.gate = new Promise((resolve) => (open = resolve));
    const first = mover.tick();
    // A tick while one runs joins it.
    expect(mover.tick()).toBe(first);
    let closed = false;
    const closing = mover.close().then(() => (closed = true));
    await Promise.resolve();
    expect(closed).toBe(false);
    open();
    await closing;
    expect(await first).toBe(1);
    journal.add();
    expect(await mover.tick()).toBe(0);
    expect(journal.rows).toEqual([2]);
  });
});
