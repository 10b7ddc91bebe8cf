import { describe, expect, it } from 'vitest';
import { formatNameAddr, parseNameAddr } from './name-addr.js';
import { SipParseError } from './sip-parse-error.js';

describe('parseNameAddr', () => {
  it('reads quoted and token display names, or none', () => {
    expect(parseNameAddr('"A \\"quoted\\" name" <sip:a@x>').displayName).toBe('A "quoted" name');
    expect(parseNameAddr('Bob  Smith <sip:b@x>').displayName).toBe('Bob  Smith');
    expect(parseNameAddr('<sip:c@x>').displayName).toBeUndefined();
    expect(parseNameAddr('""<sip:c@x>').displayName).toBe('');
    expect(parseNameAddr('"Ünïcödé" <sip:u@x>').displayName).toBe('Ünïcödé');
  });

  it('keeps URI parameters inside <> and header parameters outside', () => {
    const na = parseNameAddr(
      '<sip:a@x;transport=tcp>;tag=abc;expires=60;+sip.instance="<urn:uuid:1>"',
    );
    expect(na.uri).toMatchObject({ user: 'a', params: [['transport', 'tcp']] });
    expect(na.params).toEqual([
      ['tag', 'abc'],
      ['expires', '60'],
      ['+sip.instance', '"<urn:uuid:1>"'],
    ]);
    expect(na.tag).toBe('abc');
  });

  it('gives every ;parameter of an addr-spec to the header (RFC 3261 §20.10)', () => {
    const na = parseNameAddr('sip:a@x;transport=tcp ; tag = 1');
    expect(na.uri).toMatchObject({ params: [] });
    expect(na.params).toEqual([
      ['transport', 'tcp'],
      ['tag', '1'],
    ]);
  });

  it('refuses malformed values', () => {
    for (const bad of [
      '',
      '"unterminated <sip:a@x>',
      '"a" sip:a@x',
      '<sip:a@x',
      '< sip:a@x>',
      '<sip:a@x >',
      'Bell, Alexander <sip:a@x>',
      'sip:a@x?Route=x',
      'sip:a@x, sip:b@x',
      '<sip:a@x>;;',
      '<sip:a@x>;tag=',
      '<sip:a@x> junk',
      '<sip:a@x>;tag="open',
      'a@x',
    ]) {
      expect(() => parseNameAddr(bad), bad).toThrow(SipParseError);
    }
  });
});

describe('formatNameAddr', () => {
  it('always writes the name-addr form and quotes the display name', () => {
    expect(formatNameAddr({ displayName: 'Alice "A"', uri: 'sip:a@x', tag: 't1' })).toBe(
      '"Alice \\"A\\"" <sip:a@x>;tag=t1',
    );
    expect(
      formatNameAddr({ uri: { scheme: 'sip', user: 'b', host: 'x', params: [['lr', null]] } }),
    ).toBe('<sip:b@x;lr>');
  });

  it('replaces the tag in place when a parsed value is re-written', () => {
    const parsed = parseNameAddr('"Bob" <sip:b@x>;tag=old;other=1');
    expect(formatNameAddr({ ...parsed, tag: 'new' })).toBe('"Bob" <sip:b@x>;tag=new;other=1');
    expect(formatNameAddr(parsed)).toBe('"Bob" <sip:b@x>;tag=old;other=1');
  });

  it('refuses to write what could not be read back', () => {
    expect(() => formatNameAddr({ uri: 'not a uri' })).toThrow(TypeError);
    expect(() => formatNameAddr({ displayName: 'a\r\nb', uri: 'sip:a@x' })).toThrow(TypeError);
    expect(() => formatNameAddr({ uri: 'sip:a@x', params: [['bad name', '1']] })).toThrow(
      TypeError,
    );
    expect(() => formatNameAddr({ uri: 'sip:a@x', params: [['p', 'a b']] })).toThrow(TypeError);
  });
});
