/**
 * Which numbers the gateway will call back, whatever the company's screening
 * let through: a real number (libphonenumber's full metadata, `isValid`), not
 * of a blocked type (premium rate, shared cost… by `getType()`), not an
 * emergency or service short code, not on the block list, of an allowed
 * country. Configurable in `callbacks.numbers` (docs/callbacks.md).
 */
import { createRequire } from 'node:module';
import { ParleyError } from '@parley/shared/errors';
import type * as PhoneMax from 'libphonenumber-js/max';
import type { NumberType } from 'libphonenumber-js/max';
import type { CallbacksConfig } from '../config/callbacks.js';

let max: typeof PhoneMax | undefined;
/** libphonenumber with its full metadata, loaded with the first callback number it checks. */
function phoneMax(): typeof PhoneMax {
  max ??= createRequire(import.meta.url)('libphonenumber-js/max') as typeof PhoneMax;
  return max;
}

export type NumberRules = CallbacksConfig['numbers'];

/**
 * The number to call, in E.164, or a `number_invalid` / `number_blocked`
 * error saying why not.
 */
export function checkCallbackNumber(text: string, rules: NumberRules): string {
  const trimmed = text.trim();
  const digits = trimmed.replace(/[\s().\-/]/g, '');
  // Emergency and service codes first: "911" must say "blocked", not "not a number".
  const national = digits.replace(/^\+\d{1,3}?(?=\d{2,6}$)/, '');
  if (
    rules.emergency.includes(digits) ||
    (digits.startsWith('+') && rules.emergency.includes(national))
  )
    throw new ParleyError('number_blocked', `${trimmed} is an emergency or service number`, {
      expose: true,
    });
  if (!/^\+[\d\s().\-/]{4,40}$/.test(trimmed))
    throw new ParleyError('number_invalid', 'the number must be in E.164 (+ and digits)', {
      expose: true,
    });
  const parsed = phoneMax().parsePhoneNumberFromString(trimmed, { extract: false });
  if (!parsed?.isValid())
    throw new ParleyError('number_invalid', `${trimmed} is not a valid phone number`, {
      expose: true,
    });
  const e164 = parsed.number;
  const type: NumberType = parsed.getType();
  if (type !== undefined && (rules.blockedTypes as readonly string[]).includes(type))
    throw new ParleyError('number_blocked', `${e164} is a ${type.toLowerCase()} number`, {
      expose: true,
    });
  const listed = rules.blocked.find((entry) =>
    entry.endsWith('*') ? e164.startsWith(entry.slice(0, -1)) : e164 === entry,
  );
  if (listed !== undefined)
    throw new ParleyError('number_blocked', `${e164} matches ${listed}`, { expose: true });
  if (
    rules.allowedCountries.length > 0 &&
    (parsed.country === undefined || !rules.allowedCountries.includes(parsed.country))
  )
    throw new ParleyError('number_blocked', `${e164} is not in an allowed country`, {
      expose: true,
    });
  return e164;
}
