/**
 * Property tests: thousands of mutated INVITEs and REGISTERs through parseMessage and
 * through SipStreamDecoder with random chunking. Bad input may only ever produce a
 * SipParseError (never another error, never a hang), and whatever parses writes out
 * and parses back to the same message.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INVITE, REGISTER, messageFields } from './fixtures/fixtures.js';
import { parseMessage } from './parse-message.js';
import { serialize } from './serialize.js';
import { SipParseError } from './sip-parse-error.js';
import type { SipRequest, SipResponse } from './sip-message.js';
import { SipStreamDecoder, type SipStreamEvent } from './stream-decoder.js';
import { validateMessage } from './validate.js';

const BASES = [Buffer.from(INVITE), Buffer.from(REGISTER)];

type Mutation =
  | { kind: 'flip'; at: number; byte: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'duplicateLine' | 'removeLine'; line: number }
  | { kind: 'hugeHeader'; size: number; char: string }
  | { kind: 'unicode'; line: number; text: string }
  | { kind: 'contentLength'; value: string }
  | { kind: 'insert'; at: number; text: string };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('flip' as const),
      at: fc.nat(),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
  },
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constantFrom('duplicateLine' as const, 'removeLine' as const),
    line: fc.nat(30),
  }),
  fc.record({
    kind: fc.constant('hugeHeader' as const),
    size: fc.integer({ min: 1_000, max: 70_000 }),
    char: fc.constantFrom('a', ',', ';', '"', '<', ' ', '%'),
  }),
  fc.record({
    kind: fc.constant('unicode' as const),
    line: fc.nat(30),
    text: fc.string({ unit: 'binary', maxLength: 20 }),
  }),
  fc.record({
    kind: fc.constant('contentLength' as const),
    value: fc.oneof(
      fc.nat(100_000).map(String),
      fc.integer({ min: -1000, max: -1 }).map(String),
      fc.constantFrom('', ' ', '1e3', '0x10', '99999999999999999999', '12 34', '５'),
    ),
  }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    text: fc.constantFrom(
      '\r\n',
      '\n',
      '\r',
      ' ',
      '\t',
      ':',
      ',',
      ';',
      '"',
      '<',
      '>',
      '\r\n\r\n',
      '\r\n ',
      '\x00',
      '%',
    ),
  }),
);

function lines(data: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let start = 0;
  for (let i = data.indexOf('\r\n'); i !== -1; i = data.indexOf('\r\n', start)) {
    out.push(data.subarray(start, i + 2));
    start = i + 2;
  }
  out.push(data.subarray(start));
  return out;
}

function mutate(base: Buffer, mutations: readonly Mutation[]): Buffer {
  let data = Buffer.from(base);
  for (const m of mutations) {
    switch (m.kind) {
      case 'flip':
        if (data.length > 0) data[m.at % data.length] = m.byte;
        break;
      case 'truncate':
        data = data.subarray(0, m.at % (data.length + 1));
        break;
      case 'duplicateLine':
      case 'removeLine': {
        const all = lines(data);
        const i = 1 + (m.line % Math.max(1, all.length - 1));
        const line = all[i];
        if (line !== undefined)
          all.splice(
            i,
            m.kind === 'removeLine' ? 1 : 0,
            ...(m.kind === 'duplicateLine' ? [line] : []),
          );
        data = Buffer.concat(all);
        break;
      }
      case 'hugeHeader': {
        const all = lines(data);
        all.splice(1, 0, Buffer.from(`X-Huge: ${m.char.repeat(m.size)}\r\n`));
        data = Buffer.concat(all);
        break;
      }
      case 'unicode': {
        const all = lines(data);
        const i = m.line % all.length;
        const line = all[i] ?? Buffer.alloc(0);
        const cut = Math.max(0, line.length - 2);
        all[i] = Buffer.concat([line.subarray(0, cut), Buffer.from(m.text), line.subarray(cut)]);
        data = Buffer.concat(all);
        break;
      }
      case 'contentLength':
        data = Buffer.from(
          data.toString('latin1').replace(/Content-Length: \d+/, `Content-Length: ${m.value}`),
          'latin1',
        );
        break;
      case 'insert': {
        const at = m.at % (data.length + 1);
        data = Buffer.concat([
          data.subarray(0, at),
          Buffer.from(m.text, 'latin1'),
          data.subarray(at),
        ]);
        break;
      }
    }
  }
  return data;
}

const mutated = fc
  .tuple(fc.constantFrom(...BASES), fc.array(mutation, { minLength: 1, maxLength: 4 }))
  .map(([base, mutations]) => mutate(base, mutations));

/** Runs `fn`; a throw must be a SipParseError. Returns the value or undefined. */
function onlySipParseError<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch (error) {
    if (!(error instanceof SipParseError)) throw error;
    return undefined;
  }
}

function touchEverything(m: SipRequest | SipResponse): void {
  for (const read of [
    () => m.vias,
    () => m.from,
    () => m.to,
    () => m.callId,
    () => m.cseq,
    () => m.contacts,
    () => m.routes,
    () => m.recordRoutes,
    () => m.maxForwards,
    () => (m.type === 'request' ? m.uri : undefined),
    () => validateMessage(m),
  ]) {
    onlySipParseError(read);
  }
}

describe('fuzzing the message layer', () => {
  it('parseMessage throws nothing but SipParseError, and what parses round-trips', () => {
    let parsed = 0;
    fc.assert(
      fc.property(mutated, (data) => {
        const message = onlySipParseError(() => parseMessage(data));
        if (message === undefined) return;
        parsed++;
        touchEverything(message);
        const again = parseMessage(serialize(message), { maxBytes: Infinity });
        expect(messageFields(again)).toEqual(messageFields(message));
      }),
      { numRuns: 4000 },
    );
    // The mutations must leave a fair share parseable, or the round trip proves little.
    expect(parsed).toBeGreaterThan(400);
  });

  it('every valid base message survives serialize → parse unchanged', () => {
    for (const base of BASES) {
      const message = parseMessage(base);
      expect(serialize(message).equals(base)).toBe(true);
    }
  });

  it('SipStreamDecoder never throws, stays bounded, and frames valid traffic under any chunking', () => {
    const maxBytes = 8192;
    const part = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(...BASES) },
      { weight: 3, arbitrary: mutated },
      fc.constantFrom(Buffer.from('\r\n\r\n'), Buffer.from('\r\n')),
      fc.uint8Array({ maxLength: 64 }).map((a) => Buffer.from(a)),
    );
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 3000 }), { minLength: 1, maxLength: 8 }),
        (parts, sizes) => {
          const stream = Buffer.concat(parts);
          const decoder = new SipStreamDecoder({ maxBytes });
          let offset = 0;
          for (let i = 0; offset < stream.length; i++) {
            const size = sizes[i % sizes.length] ?? 1;
            const events = decoder.push(stream.subarray(offset, offset + size));
            offset += size;
            for (const e of events) checkEvent(e);
            expect(decoder.bufferedBytes).toBeLessThanOrEqual(maxBytes + size);
          }
        },
      ),
      { numRuns: 1500 },
    );
  });

  it('frames a stream of valid messages and keep-alives identically whatever the chunking', () => {
    const part = fc.oneof(fc.constantFrom(...BASES), fc.constant(Buffer.from('\r\n\r\n')));
    fc.assert(
      fc.property(
        fc.array(part, { minLength: 1, maxLength: 8 }),
        fc.integer({ min: 1, max: 700 }),
        (parts, size) => {
          const stream = Buffer.concat(parts);
          const decoder = new SipStreamDecoder();
          const events: SipStreamEvent[] = [];
          for (let offset = 0; offset < stream.length; offset += size) {
            events.push(...decoder.push(stream.subarray(offset, offset + size)));
          }
          const messages = events
            .filter((e) => e.type === 'message')
            .map((e) => messageFields(e.message));
          const expected = parts
            .filter((p) => p.length > 4)
            .map((p) => messageFields(parseMessage(p)));
          expect(messages).toEqual(expected);
          expect(events.filter((e) => e.type === 'error')).toEqual([]);
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      { numRuns: 500 },
    );
  });
});

function checkEvent(e: SipStreamEvent): void {
  switch (e.type) {
    case 'message':
      touchEverything(e.message);
      break;
    case 'error':
      expect(e.error).toBeInstanceOf(SipParseError);
      break;
    case 'ping':
    case 'pong':
      break;
    default:
      throw new Error(`unexpected event ${JSON.stringify(e)}`);
  }
}
