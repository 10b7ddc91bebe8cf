import { describe, expect, it } from 'vitest';
import { checkPhone, countryChoices } from './phone.js';

describe('checkPhone', () => {
  it('reads a national number in the chosen country, and an international one in any', () => {
    expect(checkPhone('(415) 555-0123', 'US')).toEqual({
      ok: true,
      e164: '+14155550123',
      country: 'US',
    });
    expect(checkPhone('030 12345678', 'DE')).toMatchObject({ ok: true, e164: '+493012345678' });
    expect(checkPhone('+44 20 7946 0018', 'US')).toMatchObject({ ok: true, e164: '+442079460018' });
  });

  it('refuses what is not a number, with number_invalid and why', () => {
    expect(checkPhone('12', 'US')).toEqual({
      ok: false,
      code: 'number_invalid',
      message: 'not a valid phone number in US: 12',
    });
    expect(checkPhone('   ', 'US')).toMatchObject({
      ok: false,
      message: 'enter your phone number',
    });
    expect(checkPhone('0301234', undefined)).toMatchObject({ ok: false, code: 'number_invalid' });
    expect(checkPhone('call me maybe', 'US')).toMatchObject({ ok: false });
    expect(checkPhone('1'.repeat(41), 'US')).toMatchObject({ ok: false });
  });
});

describe('countryChoices', () => {
  it('labels known countries with their calling code and drops unknown ones', () => {
    expect(countryChoices(['US', 'DE', 'XX'])).toEqual([
      { code: 'US', label: 'US +1' },
      { code: 'DE', label: 'DE +49' },
    ]);
  });
});
