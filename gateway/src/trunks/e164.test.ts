import { describe, expect, it } from 'vitest';
import { parseUri } from '../sip/index.js';
import { formatForTrunk, numberInUri, toE164 } from './e164.js';

describe('toE164', () => {
  it.each([
    ['+14155550100', undefined, '+14155550100'],
    ['+1 (415) 555-0100', undefined, '+14155550100'],
    ['+1.415.555.0100', undefined, '+14155550100'],
    ['+44 20 7946 0000', 'US', '+442079460000'],
    // National formats per the trunk's country.
    ['(415) 555-0100', 'US', '+14155550100'],
    ['4155550100', 'US', '+14155550100'],
    ['14155550100', 'US', '+14155550100'],
    ['011 44 20 7946 0000', 'US', '+442079460000'],
    ['020 7946 0000', 'GB', '+442079460000'],
    ['00442079460000', 'GB', '+442079460000'],
    ['030 1234567', 'DE', '+49301234567'],
    // No country: E.164 written without its '+'.
    ['14155550100', undefined, '+14155550100'],
    ['442079460000', undefined, '+442079460000'],
  ])('%s (country %s) is %s', (text, country, e164) => {
    expect(toE164(text, country)).toBe(e164);
  });

  it.each([
    ['anonymous', 'US'],
    ['', 'US'],
    ['+1555', undefined],
    ['call 415 555 0100 now', 'US'],
    ['4155550100', undefined],
    ['+1 415 555 0100 ext 7', undefined],
    ['*67 415 555 0100', 'US'],
  ])('refuses %s (country %s)', (text, country) => {
    expect(toE164(text, country)).toBeUndefined();
  });
});

describe('numberInUri', () => {
  it('reads the user part of sip URIs and the number of tel URIs', () => {
    expect(numberInUri(parseUri('sip:+14155550100@carrier.test;user=phone'))).toBe('+14155550100');
    expect(numberInUri(parseUri('sip:4155550100;phone-context=+1@carrier.test'))).toBe(
      '4155550100',
    );
    expect(numberInUri(parseUri('tel:+1-415-555-0100;phone-context=example.com'))).toBe(
      '+1-415-555-0100',
    );
    expect(numberInUri(parseUri('sip:carrier.test'))).toBeUndefined();
    expect(numberInUri(parseUri('urn:service:sos'))).toBeUndefined();
    expect(toE164(numberInUri(parseUri('tel:+1-415-555-0100')) ?? '')).toBe('+14155550100');
  });
});

describe('formatForTrunk', () => {
  it('writes E.164, its digits, or the national digits with the national prefix', () => {
    expect(formatForTrunk('+442079460000', 'e164')).toBe('+442079460000');
    expect(formatForTrunk('+442079460000', 'e164-digits')).toBe('442079460000');
    expect(formatForTrunk('+442079460000', 'national')).toBe('02079460000');
    expect(formatForTrunk('+14155550100', 'national')).toBe('4155550100');
  });
});
