import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_MESSAGE_BYTES, parseMessage, utf8Length, type ParleyMessage } from './messages.js';

const at = '2030-01-01T00:00:00.000Z';
const frame = (value: unknown) => JSON.stringify(value);

describe('parseMessage: accepts', () => {
  const valid: ParleyMessage[] = [
    { type: 'chat', id: 'c1', at, text: 'Hello' },
    { type: 'form', id: 'f1', at, form: 'order', fields: { order: '42', email: 'a@b.test' } },
    { type: 'form', id: 'f2', at, form: 'empty', fields: {} },
    { type: 'navigation', id: 'n1', at, url: 'https://shop.acme.test/cart' },
    { type: 'navigation', id: 'n2', at, url: 'https://shop.acme.test/', title: 'Home' },
    { type: 'custom', id: 'x1', at, name: 'cart', data: { items: [1, 2], total: 3.5 } },
    { type: 'custom', id: 'x2', at, name: 'ping', data: null },
  ];
  it.each(valid)('a $type message ($id)', (message) => {
    expect(parseMessage(frame(message))).toEqual({ ok: true, message });
  });

  it('a message of exactly the size limit', () => {
    const base = frame({ type: 'custom', id: 'x', at, name: 'pad', data: '' });
    const message = frame({
      type: 'custom',
      id: 'x',
      at,
      name: 'pad',
      data: 'x'.repeat(MAX_MESSAGE_BYTES - base.length),
    });
    expect(utf8Length(message)).toBe(MAX_MESSAGE_BYTES);
    expect(parseMessage(message).ok).toBe(true);
  });
});

describe('parseMessage: refuses', () => {
  const cases: [string, unknown, string, string | undefined][] = [
    ['a binary frame', new Uint8Array([123, 125]), 'not a text frame', undefined],
    ['a non-string', 42, 'not a text frame', undefined],
    ['text that is not JSON', '{"type":', 'not JSON', undefined],
    ['a JSON array', '[]', 'not an object', undefined],
    ['JSON null', 'null', 'not an object', undefined],
    ['a JSON string', '"chat"', 'not an object', undefined],
    ['no id', frame({ type: 'chat', at, text: 'hi' }), 'id and at are required', undefined],
    [
      'an empty id',
      frame({ type: 'chat', id: '', at, text: 'hi' }),
      'id and at are required',
      undefined,
    ],
    [
      'a numeric id',
      frame({ type: 'chat', id: 7, at, text: 'hi' }),
      'id and at are required',
      undefined,
    ],
    [
      'an id over 100',
      frame({ type: 'chat', id: 'i'.repeat(101), at, text: 'hi' }),
      'id and at are required',
      undefined,
    ],
    ['no at', frame({ type: 'chat', id: 'c1', text: 'hi' }), 'id and at are required', 'c1'],
    [
      'an at over 40',
      frame({ type: 'chat', id: 'c1', at: 't'.repeat(41), text: 'hi' }),
      'id and at are required',
      'c1',
    ],
    ['an unknown type', frame({ type: 'video', id: 'c1', at }), 'unknown type', 'c1'],
    ['no type', frame({ id: 'c1', at, text: 'hi' }), 'unknown type', 'c1'],
    [
      'a forged gateway notice',
      frame({ type: 'notice', code: 'call_ended', id: 'c1', at, reason: 'x' }),
      'unknown type',
      'c1',
    ],
    ['a chat without text', frame({ type: 'chat', id: 'c1', at }), 'chat needs text', 'c1'],
    [
      'a chat with empty text',
      frame({ type: 'chat', id: 'c1', at, text: '' }),
      'chat needs text',
      'c1',
    ],
    [
      'a chat with text over 2000',
      frame({ type: 'chat', id: 'c1', at, text: 'x'.repeat(2001) }),
      'chat needs text',
      'c1',
    ],
    [
      'a chat with non-string text',
      frame({ type: 'chat', id: 'c1', at, text: { t: 1 } }),
      'chat needs text',
      'c1',
    ],
    [
      'a form without a name',
      frame({ type: 'form', id: 'c1', at, fields: {} }),
      'form needs a name and string fields',
      'c1',
    ],
    [
      'a form without fields',
      frame({ type: 'form', id: 'c1', at, form: 'f' }),
      'form needs a name and string fields',
      'c1',
    ],
    [
      'a form with array fields',
      frame({ type: 'form', id: 'c1', at, form: 'f', fields: ['a'] }),
      'form needs a name and string fields',
      'c1',
    ],
    [
      'a form with a number field',
      frame({ type: 'form', id: 'c1', at, form: 'f', fields: { a: 1 } }),
      'form needs a name and string fields',
      'c1',
    ],
    [
      'a form with a nested field',
      frame({ type: 'form', id: 'c1', at, form: 'f', fields: { a: { b: 'c' } } }),
      'form needs a name and string fields',
      'c1',
    ],
    [
      'a navigation without url',
      frame({ type: 'navigation', id: 'c1', at }),
      'navigation needs a url',
      'c1',
    ],
    [
      'a navigation with a numeric title',
      frame({ type: 'navigation', id: 'c1', at, url: 'https://a.test', title: 3 }),
      'navigation needs a url',
      'c1',
    ],
    [
      'a custom without a name',
      frame({ type: 'custom', id: 'c1', at, data: 1 }),
      'custom needs a name',
      'c1',
    ],
    [
      'a custom with a name over 100',
      frame({ type: 'custom', id: 'c1', at, name: 'n'.repeat(101) }),
      'custom needs a name',
      'c1',
    ],
  ];
  it.each(cases)('%s', (_, input, reason, id) => {
    expect(parseMessage(input)).toEqual(
      id === undefined ? { ok: false, reason } : { ok: false, reason, id },
    );
  });

  it('a frame over the size limit, before parsing it', () => {
    const big = frame({ type: 'chat', id: 'c1', at, text: 'x'.repeat(MAX_MESSAGE_BYTES) });
    expect(parseMessage(big)).toEqual({ ok: false, reason: 'too large' });
    // Not even JSON: the size is checked first.
    expect(parseMessage('{'.repeat(MAX_MESSAGE_BYTES + 1))).toEqual({
      ok: false,
      reason: 'too large',
    });
  });

  it('a frame over the limit in UTF-8 bytes though under it in characters', () => {
    const text = 'é'.repeat(1500); // 1,500 characters, 3,000 bytes
    const message = frame({ type: 'custom', id: 'c1', at, name: 'n', data: [text, text] });
    expect(message.length).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(parseMessage(message)).toEqual({ ok: false, reason: 'too large' });
  });
});

describe('parseMessage: never throws', () => {
  it('returns a typed result for deeply nested JSON', () => {
    const deep = `${'['.repeat(2000)}${']'.repeat(2000)}`;
    expect(parseMessage(deep)).toEqual({ ok: false, reason: 'not an object' });
  });

  it('returns { ok, message } or { ok: false, reason } for any value', () => {
    const odd = fc.anything({ maxDepth: 1 });
    const text = fc.oneof(fc.string({ maxLength: 120 }), odd);
    const messageLike = fc.record(
      {
        type: fc.oneof(fc.constantFrom('chat', 'form', 'navigation', 'custom', 'notice'), odd),
        id: text,
        at: text,
        text,
        form: text,
        fields: fc.oneof(fc.dictionary(fc.string(), text, { maxKeys: 4 }), odd),
        url: text,
        title: text,
        name: text,
        data: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: [] },
    );
    const input = fc.oneof(
      odd,
      fc.string({ unit: 'binary', maxLength: 200 }),
      fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v)),
      messageLike.map((v) => JSON.stringify(v)),
    );
    let accepted = 0;
    fc.assert(
      fc.property(input, (value) => {
        const result = parseMessage(value);
        if (!result.ok) return typeof result.reason === 'string' && result.reason.length > 0;
        accepted += 1;
        return (
          ['chat', 'form', 'navigation', 'custom'].includes(result.message.type) &&
          typeof result.message.id === 'string'
        );
      }),
      { numRuns: 1000, seed: 4096 },
    );
    // The generator reaches the accepting branches too, not only refusals.
    expect(accepted).toBeGreaterThan(0);
  });
});
