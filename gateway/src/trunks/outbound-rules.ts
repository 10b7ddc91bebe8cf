/**
 * A trunk's outbound rules (`trunks.<id>.outbound`): which tenants may call
 * out through it, and which numbers it may call. One pure check, used by the
 * dialer before any INVITE leaves and by other modules that keep a number to
 * call later (a marketplace listing's destination), so both refuse the same
 * numbers for the same reason, naming the rule.
 */
import { toE164 } from './e164.js';

/** What of a trunk's config the rules read. */
export interface OutboundRuleSettings {
  readonly defaultCountry?: string | undefined;
  readonly outbound: {
    readonly tenants: readonly string[];
    readonly allowPrefixes: readonly string[];
    readonly denyPrefixes: readonly string[];
  };
}

/** Why a trunk will not call a number: the config key of the rule, and a sentence naming it. */
export interface OutboundRefusal {
  /** `trunks.<id>.outbound.tenants`, `…denyPrefixes`, `…allowPrefixes`, `…defaultCountry`, or `trunks`. */
  readonly rule: string;
  /** `not_allowed`: the tenant may not use the trunk; `number`: the rules refuse the number. */
  readonly kind: 'tenant' | 'number';
  readonly detail: string;
}

/** The longest prefix of `list` that `e164` starts with (a more specific rule names itself). */
function matching(list: readonly string[], e164: string): string | undefined {
  let best: string | undefined;
  for (const prefix of list)
    if (e164.startsWith(prefix) && (best === undefined || prefix.length > best.length))
      best = prefix;
  return best;
}

/**
 * Whether trunk `id` may call `number` for `tenant`: undefined when it may,
 * else the rule that refuses. A deny prefix wins over an allow prefix;
 * `allowPrefixes` empty allows every number the deny list does not name.
 */
export function outboundRefusal(
  id: string,
  settings: OutboundRuleSettings,
  tenant: string,
  number: string,
): OutboundRefusal | undefined {
  const path = `trunks.${id}.outbound`;
  const { tenants, allowPrefixes, denyPrefixes } = settings.outbound;
  if (tenants.length > 0 && !tenants.includes(tenant))
    return {
      rule: `${path}.tenants`,
      kind: 'tenant',
      detail: `tenant ${tenant} may not call out through trunk ${id} (${path}.tenants)`,
    };
  const e164 = toE164(number, settings.defaultCountry);
  if (e164 === undefined)
    return {
      rule: `trunks.${id}.defaultCountry`,
      kind: 'number',
      detail: `trunk ${id} cannot read ${number} as a telephone number`,
    };
  const denied = matching(denyPrefixes, e164);
  if (denied !== undefined)
    return {
      rule: `${path}.denyPrefixes`,
      kind: 'number',
      detail: `${e164} is refused by ${path}.denyPrefixes (${denied})`,
    };
  if (allowPrefixes.length > 0 && matching(allowPrefixes, e164) === undefined)
    return {
      rule: `${path}.allowPrefixes`,
      kind: 'number',
      detail: `${e164} is not in ${path}.allowPrefixes (${allowPrefixes.join(', ')})`,
    };
  return undefined;
}

/**
 * The rules of every configured trunk, for a module that checks a number
 * before it keeps it: `trunk` named, that trunk's; else the trunk the dialer
 * would pick (the first whose `outbound.tenants` lets the tenant call out).
 */
export function outboundRules(
  trunks: Readonly<Record<string, OutboundRuleSettings>>,
): (tenant: string, trunk: string | undefined, number: string) => OutboundRefusal | undefined {
  return (tenant, trunk, number) => {
    const id =
      trunk ??
      Object.entries(trunks).find(
        ([, t]) => t.outbound.tenants.length === 0 || t.outbound.tenants.includes(tenant),
      )?.[0];
    const settings = id === undefined ? undefined : trunks[id];
    if (id === undefined || settings === undefined)
      return {
        rule: 'trunks',
        kind: 'tenant',
        detail:
          trunk === undefined
            ? `no trunk lets tenant ${tenant} call out`
            : `no trunk ${trunk} is configured`,
      };
    return outboundRefusal(id, settings, tenant, number);
  };
}
