/** Verdicts the Gate makes itself, before or around an authenticator's. */
import type { CheckName } from '../decision.js';
import type { Verdict } from './authenticator.js';

/** A verdict refusing on one check. */
export function refusal(
  name: CheckName,
  detail: string,
  partial: { accountId?: string | null; residentId?: string | null } = {},
): Verdict {
  return {
    allowed: false,
    checks: [{ name, ok: false, detail }],
    accountId: partial.accountId ?? null,
    residentId: partial.residentId ?? null,
    devices: [],
    callerName: null,
    ratePerMinute: null,
    balance: null,
  };
}

/** The ticket check, first in a reverify by ticket. */
export function withTicket(verdict: Verdict): Verdict {
  return { ...verdict, checks: [{ name: 'device_ticket', ok: true }, ...verdict.checks] };
}
