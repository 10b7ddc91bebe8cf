/**
 * Phone numbers a visitor types, read with libphonenumber-js (Google's
 * metadata, maintained; the `min` metadata: the company's server only needs
 * to know a number is one, the gateway applies the number-type rules with the
 * full metadata). Hand-written rules would get national prefixes, trunk
 * codes and lengths wrong for most of the world.
 */
import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/min';

/** ISO 3166-1 alpha-2, upper case (`US`, `GB`). */
const COUNTRY = /^[A-Z]{2}$/;

export function isCountryCode(value: unknown): value is string {
  return typeof value === 'string' && COUNTRY.test(value);
}

/**
 * The number in E.164, or undefined when it is none: digits, a leading `+`
 * and visual separators only (never a number found inside words), valid for
 * its country. Without `+`, national in `country`.
 */
export function visitorNumber(text: string, country: string | undefined): string | undefined {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > 40) return undefined;
  if (!/^\+?[\d\s().\-/]+$/.test(trimmed)) return undefined;
  if (!trimmed.startsWith('+') && !isCountryCode(country)) return undefined;
  const parsed = parsePhoneNumberFromString(trimmed, {
    ...(trimmed.startsWith('+') ? {} : { defaultCountry: country as CountryCode }),
    extract: false,
  });
  return parsed?.isValid() ? parsed.number : undefined;
}

/** The country an E.164 number belongs to (`US`), when the metadata knows it. */
export function numberCountry(e164: string): string | undefined {
  return parsePhoneNumberFromString(e164)?.country;
}

/**
 * Whether `e164` is listed: an entry is a whole number (`+14155550100`) or a
 * prefix ending in `*` (`+1900*`).
 */
export function numberListed(e164: string, entries: readonly string[]): string | undefined {
  return entries.find((entry) =>
    entry.endsWith('*') ? e164.startsWith(entry.slice(0, -1)) : e164 === entry,
  );
}

/** A number-list entry as the config writes it: `+` and digits, optionally ending in `*`. */
export function isNumberListEntry(entry: unknown): entry is string {
  return typeof entry === 'string' && /^\+\d{1,15}\*?$/.test(entry);
}
