/**
 * E.164 numbers from what carriers send, with libphonenumber-js (Google's
 * metadata, maintained): `+1 (415) 555-0100`, `tel:+1-415-555-0100`,
 * `sip:4155550100@carrier;user=phone` with a trunk's default country of US,
 * `011 44 20 7946 0000` (an international prefix) all become `+14155550100`
 * and `+442079460000`. A number is taken when it is *possible* (its length fits
 * the country's plan), not only when libphonenumber calls it *valid*: metadata
 * lags behind new number ranges, and refusing a real caller is worse than
 * letting the DID table decide.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js';
import { isSipUri, isTelUri, type Uri } from '../sip/index.js';

/** How a trunk writes numbers toward the carrier. */
export type NumberFormat = 'e164' | 'e164-digits' | 'national';

/**
 * `text` in E.164, or undefined when it is no possible telephone number.
 * Without a leading `+`, the number is national in `defaultCountry` when the
 * trunk names one, else E.164 written without its `+`.
 */
export function toE164(text: string, defaultCountry?: string): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > 64) return undefined;
  // Only digits, '+' first, and visual separators (RFC 3966 §5.1.1): never a number found inside words.
  if (!/^\+?[\d\s().\-/]+$/.test(trimmed)) return undefined;
  const international = trimmed.startsWith('+');
  const input =
    international || defaultCountry !== undefined ? trimmed : `+${trimmed.replace(/\D/g, '')}`;
  const parsed = parsePhoneNumberFromString(input, {
    ...(international || defaultCountry === undefined
      ? {}
      : { defaultCountry: defaultCountry as CountryCode }),
    extract: false,
  });
  if (!parsed?.isPossible()) return undefined;
  return parsed.number;
}

/**
 * The number a SIP or tel URI carries: the user part of a sip(s) URI (up to a
 * `;` parameter such as `;phone-context=`), the number of a tel URI.
 * Undefined when the URI has none (no user, `anonymous`, another scheme).
 */
export function numberInUri(uri: Uri): string | undefined {
  if (isTelUri(uri)) return uri.number.split(';')[0];
  if (isSipUri(uri)) return uri.user?.split(';')[0];
  return undefined;
}

/** An E.164 number as a trunk writes it toward the carrier. */
export function formatForTrunk(e164: string, format: NumberFormat): string {
  switch (format) {
    case 'e164':
      return e164;
    case 'e164-digits':
      return e164.slice(1);
    case 'national': {
      const parsed = parsePhoneNumberFromString(e164);
      // Digits of the national form keep the national prefix (`020…` in GB).
      return parsed ? parsed.format('NATIONAL').replace(/\D/g, '') : e164.slice(1);
    }
  }
}
