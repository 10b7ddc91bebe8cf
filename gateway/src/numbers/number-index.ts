import { rangeProblem, type NumberRange } from './number-ranges.js';

/** The largest caller-ID pool a gateway takes (numbers in all its blocks). */
export const MAX_POOL = 1_000_000;

interface Block {
  readonly length: number;
  readonly from: bigint;
  /** Index of the block's first number. */
  readonly offset: number;
  readonly count: number;
}

/**
 * The caller-ID pool's numbers as the indices 0..size-1 (blocks in config
 * order, each in ascending order), computed from the blocks' ends instead of
 * kept as strings: the pool's free queue can then be typed arrays (see
 * {@link FreeQueue}). 100,000 numbers kept as two `Set`s of strings cost
 * about 10 MB of heap; as indices about 1 MB. Throws a plain Error (which the
 * config layer reports) on a bad block, blocks that overlap, or more than
 * {@link MAX_POOL} numbers.
 */
export class NumberIndex {
  readonly size: number;
  readonly #blocks: readonly Block[];

  constructor(ranges: readonly NumberRange[]) {
    const blocks: Block[] = [];
    let offset = 0;
    for (const range of ranges) {
      const problem = rangeProblem(range);
      if (problem) throw new Error(`number range ${problem}`);
      const from = BigInt(range.from.slice(1));
      const count = BigInt(range.to.slice(1)) - from + 1n;
      if (count + BigInt(offset) > BigInt(MAX_POOL))
        throw new Error(`number pool larger than ${MAX_POOL}`);
      const block = { length: range.from.length, from, offset, count: Number(count) };
      const other = blocks.find(
        (b) =>
          b.length === block.length &&
          b.from <= block.from + count - 1n &&
          block.from <= b.from + BigInt(b.count) - 1n,
      );
      if (other) throw new Error(`number range ${range.from}..${range.to}: overlaps another block`);
      blocks.push(block);
      offset += block.count;
    }
    this.#blocks = blocks;
    this.size = offset;
  }

  /** The number's index, or -1 when it is not one of the pool's. */
  indexOf(number: string): number {
    if (number.length < 3 || number[0] !== '+') return -1;
    let value: bigint;
    try {
      value = BigInt(number.slice(1));
    } catch {
      return -1;
    }
    for (const b of this.#blocks) {
      if (b.length !== number.length) continue;
      const at = value - b.from;
      if (at >= 0n && at < BigInt(b.count)) return b.offset + Number(at);
    }
    return -1;
  }

  has(number: string): boolean {
    return this.indexOf(number) !== -1;
  }

  /** The number at `index` (0 ≤ index < size), E.164. */
  numberAt(index: number): string {
    for (const b of this.#blocks) {
      if (index < b.offset || index >= b.offset + b.count) continue;
      const value = b.from + BigInt(index - b.offset);
      return `+${value.toString().padStart(b.length - 1, '0')}`;
    }
    throw new RangeError(`number index ${index} outside the pool (size ${this.size})`);
  }
}

/**
 * Indices 0..capacity-1 in a queue, least recently added first: O(1) push to
 * the end, removal from anywhere and shift from the front. A doubly linked
 * list in typed arrays (9 bytes per index), by hand because a `Set` of numbers
 * costs several times that and no maintained package keeps a keyed LRU order
 * in typed arrays.
 */
export class FreeQueue {
  readonly #next: Int32Array;
  readonly #prev: Int32Array;
  readonly #queued: Uint8Array;
  #head = -1;
  #tail = -1;
  #size = 0;

  constructor(capacity: number) {
    this.#next = new Int32Array(capacity);
    this.#prev = new Int32Array(capacity);
    this.#queued = new Uint8Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  has(index: number): boolean {
    return this.#queued[index] === 1;
  }

  /** Queues `index` last; one already queued moves to the end. */
  push(index: number): void {
    if (this.#queued[index] === 1) this.delete(index);
    this.#queued[index] = 1;
    this.#prev[index] = this.#tail;
    this.#next[index] = -1;
    if (this.#tail === -1) this.#head = index;
    else this.#next[this.#tail] = index;
    this.#tail = index;
    this.#size += 1;
  }

  delete(index: number): boolean {
    if (this.#queued[index] !== 1) return false;
    const prev = this.#prev[index] ?? -1;
    const next = this.#next[index] ?? -1;
    if (prev === -1) this.#head = next;
    else this.#next[prev] = next;
    if (next === -1) this.#tail = prev;
    else this.#prev[next] = prev;
    this.#queued[index] = 0;
    this.#size -= 1;
    return true;
  }

  /** Takes the index queued longest ago. */
  shift(): number | undefined {
    const head = this.#head;
    if (head === -1) return undefined;
    this.delete(head);
    return head;
  }
}
