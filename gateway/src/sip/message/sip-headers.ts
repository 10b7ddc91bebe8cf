/**
 * The header fields of a message: an ordered multimap of (name, value) lines with
 * case-insensitive names and compact forms (`v` is `Via`). Values are unfolded (a
 * continuation line becomes one SP, RFC 3261 §7.3.1) and trimmed; names keep the
 * spelling they arrived with, and a header created here gets its full canonical name.
 *
 * Structured values (Via, name-addr, CSeq) are parsed only when a message accessor
 * asks, and cached until a header of that name changes.
 */
import { canonicalName, headerKey, isListHeader, splitList } from './header-names.js';
import { isToken, trimWsp } from './lexer.js';

export interface HeaderLine {
  /** The name as written (`v`, `MaX-fOrWaRdS`) or, for a created header, its canonical name. */
  readonly name: string;
  /** Lower-case full name (`via`, `max-forwards`). */
  readonly key: string;
  readonly value: string;
}

/** Anything headers can be built from: pairs in order, or a record of name → value(s). */
export type SipHeadersInit =
  | Iterable<readonly [name: string, value: string]>
  | Readonly<Record<string, string | readonly string[]>>;

export class SipHeaders implements Iterable<[name: string, value: string]> {
  #lines: HeaderLine[];
  #cache: Map<string, unknown> | undefined;

  constructor(init?: SipHeadersInit | SipHeaders) {
    this.#lines = [];
    if (init instanceof SipHeaders) this.#lines = init.#lines.slice();
    else if (init !== undefined) {
      const pairs: Iterable<readonly [string, string | readonly string[]]> =
        Symbol.iterator in init
          ? (init as Iterable<readonly [string, string]>)
          : Object.entries(init);
      for (const [name, value] of pairs) {
        for (const v of typeof value === 'string' ? [value] : value) this.append(name, v);
      }
    }
  }

  /** @internal Builds from lines the parser already validated (no copy, no checks). */
  static fromParsedLines(lines: HeaderLine[]): SipHeaders {
    const headers = new SipHeaders();
    headers.#lines = lines;
    return headers;
  }

  /** Number of header lines. */
  get size(): number {
    return this.#lines.length;
  }

  has(name: string): boolean {
    const key = headerKey(name);
    return this.#lines.some((l) => l.key === key);
  }

  /** Number of lines with this name (not of list elements). */
  count(name: string): number {
    const key = headerKey(name);
    let n = 0;
    for (const l of this.#lines) if (l.key === key) n++;
    return n;
  }

  /**
   * The first value: for a list header (Via, Contact, Route, Allow...) the first
   * element of the first line, otherwise the whole first line. Undefined when absent.
   */
  get(name: string): string | undefined {
    const key = headerKey(name);
    const line = this.#lines.find((l) => l.key === key);
    if (line === undefined) return undefined;
    if (!isListHeader(key) || !line.value.includes(',')) return line.value;
    return splitList(line.value, false)?.[0] ?? '';
  }

  /**
   * Every value in order. List headers are split at the commas between elements (never
   * inside quotes or `<...>`), others (WWW-Authenticate, Authorization, Date, unknown
   * headers...) come back one value per line.
   */
  getAll(name: string): string[] {
    const key = headerKey(name);
    const list = isListHeader(key);
    const out: string[] = [];
    for (const l of this.#lines) {
      if (l.key !== key) continue;
      if (list && l.value.includes(',')) out.push(...(splitList(l.value, false) ?? []));
      else if (!list || l.value !== '') out.push(l.value);
    }
    return out;
  }

  /** The raw line values (no list splitting). */
  getLines(name: string): string[] {
    const key = headerKey(name);
    const out: string[] = [];
    for (const l of this.#lines) if (l.key === key) out.push(l.value);
    return out;
  }

  /**
   * Replaces every line of `name` with `value` (one line per array element, written
   * with the canonical name), at the position of the first one; appends when there was none.
   */
  set(name: string, value: string | readonly string[]): this {
    const key = headerKey(name);
    const values = typeof value === 'string' ? [value] : value;
    const first = this.#lines.findIndex((l) => l.key === key);
    const spelled = canonicalName(name);
    const created = values.map((v) => makeLine(spelled, key, v));
    if (first === -1) this.#lines.push(...created);
    else {
      const rest = this.#lines.filter((l, i) => i < first || l.key !== key);
      rest.splice(first, 0, ...created);
      this.#lines = rest;
    }
    this.#invalidate(key);
    return this;
  }

  /** Adds a line at the end of the header block. */
  append(name: string, value: string): this {
    const key = headerKey(name);
    this.#lines.push(makeLine(canonicalName(name), key, value));
    this.#invalidate(key);
    return this;
  }

  /**
   * Adds a line before the first header of the same name (a proxy's Via or
   * Record-Route goes on top), or at the top of the header block when there is none.
   */
  prepend(name: string, value: string): this {
    const key = headerKey(name);
    const first = this.#lines.findIndex((l) => l.key === key);
    this.#lines.splice(first === -1 ? 0 : first, 0, makeLine(canonicalName(name), key, value));
    this.#invalidate(key);
    return this;
  }

  /** Removes every line of `name`; returns how many there were. */
  delete(name: string): number {
    const key = headerKey(name);
    const before = this.#lines.length;
    this.#lines = this.#lines.filter((l) => l.key !== key);
    this.#invalidate(key);
    return before - this.#lines.length;
  }

  /** Removes the first list element of `name` (the topmost Via or Route). */
  shift(name: string): string | undefined {
    const key = headerKey(name);
    const index = this.#lines.findIndex((l) => l.key === key);
    const line = this.#lines[index];
    if (line === undefined) return undefined;
    const elements = isListHeader(key) ? (splitList(line.value, false) ?? []) : [line.value];
    const [first, ...rest] = elements;
    if (rest.length === 0) this.#lines.splice(index, 1);
    else this.#lines[index] = { name: line.name, key, value: rest.join(', ') };
    this.#invalidate(key);
    return first;
  }

  /** The lines in order. */
  lines(): readonly HeaderLine[] {
    return this.#lines;
  }

  *[Symbol.iterator](): Iterator<[name: string, value: string]> {
    for (const l of this.#lines) yield [l.name, l.value];
  }

  clone(): SipHeaders {
    return new SipHeaders(this);
  }

  /** @internal Parsed value of `key`, computed once until a header of that name changes. */
  cached<T>(key: string, compute: () => T): T {
    const cache = (this.#cache ??= new Map());
    if (cache.has(key)) return cache.get(key) as T;
    const value = compute();
    cache.set(key, value);
    return value;
  }

  #invalidate(key: string): void {
    this.#cache?.delete(key);
  }
}

function makeLine(name: string, key: string, value: string): HeaderLine {
  if (!isToken(name)) throw new TypeError(`bad header name ${JSON.stringify(name)}`);
  if (value.includes('\r') || value.includes('\n')) {
    throw new TypeError(`header ${name}: a value cannot contain CR or LF`);
  }
  return { name, key, value: trimWsp(value) };
}
