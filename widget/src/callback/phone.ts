/**
 * The visitor's phone number, checked in the browser before anything is
 * asked: libphonenumber-js (its `min` metadata: valid lengths and prefixes per
 * country) turns what was typed, in the chosen country, into E.164. The
 * company's screening and the gateway check again with their own rules
 * (blocked types, block lists): this only spares a round trip and tells the
 * visitor at once.
 */
import {
  getCountries,
  getCountryCallingCode,
  parsePhoneNumberFromString,
  type CountryCode,
} from 'libphonenumber-js/min';

export type PhoneCheck =
  | { readonly ok: true; readonly e164: string; readonly country: string | undefined }
  | { readonly ok: false; readonly code: 'number_invalid'; readonly message: string };

const KNOWN = new Set<string>(getCountries());

/** True for an ISO 3166 code libphonenumber knows (`US`, `DE`). */
export function isKnownCountry(code: string): code is CountryCode {
  return KNOWN.has(code);
}

/**
 * What was typed → E.164, or why not. A number starting with `+` needs no
 * country; anything else is read as a national number of `country`.
 */
export function checkPhone(typed: string, country: string | undefined): PhoneCheck {
  const text = typed.trim();
  if (text.length === 0) return invalid('enter your phone number');
  if (text.length > 40) return invalid('a phone number is at most 40 characters');
  const region = country !== undefined && isKnownCountry(country) ? country : undefined;
  if (!text.startsWith('+') && region === undefined)
    return invalid('choose a country or type the number with its + country code');
  const parsed = parsePhoneNumberFromString(text, region);
  if (parsed === undefined || !parsed.isValid())
    return invalid(`not a valid phone number${region ? ` in ${region}` : ''}: ${text}`);
  return { ok: true, e164: parsed.number, country: parsed.country ?? region };
}

function invalid(message: string): PhoneCheck {
  return { ok: false, code: 'number_invalid', message };
}

/** The countries the form offers, with their calling codes, in the order given. */
export function countryChoices(
  codes: readonly string[],
): { readonly code: string; readonly label: string }[] {
  return codes
    .filter(isKnownCountry)
    .map((code) => ({ code, label: `${code} +${getCountryCallingCode(code)}` }));
}
