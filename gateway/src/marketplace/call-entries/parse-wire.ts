/**
 * Checked call entries between the parsing thread (`parse-worker.ts`) and
 * the gateway's (`worker-source.ts`), compactly: a message carries up to
 * {@link WIRE_ITEMS} items as a kind and two numbers an item (typed arrays)
 * and their strings concatenated in one string with their lengths, so the
 * structured clone copies a few flat buffers rather than an object per entry.
 */
import type { CallEntry, Checked } from './entry.js';

/** Items a message. */
export const WIRE_ITEMS = 512;

const ENTRY = 0;
const INVALID = 1;
const ROW_ERROR = 2;
/** A string's length standing for `undefined`. */
const NONE = -1;

export interface WireItems {
  readonly type: 'items';
  readonly count: number;
  /** ENTRY, INVALID or ROW_ERROR an item. */
  readonly kinds: Uint8Array;
  /** Two an item: the start time (NaN when none) and the duration (NaN when none). */
  readonly numbers: Float64Array;
  readonly text: string;
  /** Each string's length in `text`, in order, or NONE. */
  readonly lengths: Int32Array;
}

/** An item as `ingest` takes it: checked (all but the clock's rule) or a row the reader could not read. */
export type WireItem =
  | { readonly kind: 'checked'; readonly at: string; readonly checked: Checked }
  | { readonly kind: 'row-error'; readonly at: string; readonly reason: string };

/** Items gathered into one message (the thread's side). */
export class WireWriter {
  #kinds = new Uint8Array(WIRE_ITEMS);
  #numbers = new Float64Array(WIRE_ITEMS * 2);
  #lengths: number[] = [];
  #strings: string[] = [];
  #count = 0;

  get count(): number {
    return this.#count;
  }

  #text(s: string | undefined): void {
    if (s === undefined) this.#lengths.push(NONE);
    else {
      this.#lengths.push(s.length);
      this.#strings.push(s);
    }
  }

  add(item: WireItem): void {
    const n = this.#count++;
    this.#text(item.at);
    let start = NaN;
    let duration = NaN;
    if (item.kind === 'row-error') {
      this.#kinds[n] = ROW_ERROR;
      this.#text(item.reason);
    } else if (item.checked.ok) {
      const e = item.checked.entry;
      this.#kinds[n] = ENTRY;
      this.#text(e.id);
      this.#text(e.deviceId);
      this.#text(e.number);
      this.#text(JSON.stringify(e.data));
      start = e.startedAt;
      duration = e.durationSeconds ?? NaN;
    } else {
      const c = item.checked;
      this.#kinds[n] = INVALID;
      this.#text(c.id);
      this.#text(c.reason);
      if ('startedAt' in c) start = c.startedAt;
    }
    this.#numbers[2 * n] = start;
    this.#numbers[2 * n + 1] = duration;
  }

  /** The message, its buffers to transfer; the writer empty again. */
  take(): { message: WireItems; transfer: ArrayBuffer[] } {
    const message: WireItems = {
      type: 'items',
      count: this.#count,
      kinds: this.#kinds.slice(0, this.#count),
      numbers: this.#numbers.slice(0, this.#count * 2),
      text: this.#strings.join(''),
      lengths: Int32Array.from(this.#lengths),
    };
    this.#lengths = [];
    this.#strings = [];
    this.#count = 0;
    return {
      message,
      transfer: [
        message.kinds.buffer,
        message.numbers.buffer,
        message.lengths.buffer,
      ] as ArrayBuffer[],
    };
  }
}

/** A message's items, in order (the gateway's side). */
export function* readWire(m: WireItems): Generator<WireItem> {
  const { kinds, numbers, text, lengths } = m;
  let at = 0;
  let s = 0;
  const next = (): string | undefined => {
    const length = lengths[s++] ?? NONE;
    if (length === NONE) return undefined;
    const value = text.slice(at, at + length);
    at += length;
    return value;
  };
  const must = (): string => next() ?? '';
  // A batch's entries often carry the same data (a CSV's `data.` columns): parsed once while it repeats.
  let lastData = '{}';
  let lastObject: Record<string, unknown> = {};
  for (let n = 0; n < m.count; n += 1) {
    const where = must();
    const kind = kinds[n];
    const start = numbers[2 * n] as number;
    if (kind === ROW_ERROR) {
      yield { kind: 'row-error', at: where, reason: must() };
    } else if (kind === ENTRY) {
      const id = must();
      const deviceId = must();
      const number = next();
      const data = must();
      const duration = numbers[2 * n + 1] as number;
      if (data !== lastData) {
        lastObject = JSON.parse(data) as Record<string, unknown>;
        lastData = data;
      }
      const entry: CallEntry = {
        id,
        deviceId,
        number,
        startedAt: start,
        durationSeconds: Number.isNaN(duration) ? undefined : duration,
        data: lastObject,
      };
      yield { kind: 'checked', at: where, checked: { ok: true, entry } };
    } else {
      const id = next();
      const reason = must();
      yield {
        kind: 'checked',
        at: where,
        checked: Number.isNaN(start)
          ? { ok: false, id, reason }
          : { ok: false, id, reason, startedAt: start },
      };
    }
  }
}
