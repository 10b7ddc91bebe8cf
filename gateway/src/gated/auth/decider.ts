/**
 * Who answers for a tenant: the built-in checks, or the facility's own
 * server over HTTP with what happens when it fails (`authenticator.onFailure`:
 * refuse, fail-closed, or let the built-in checks decide). The Gate asks
 * every stage through {@link Decider.decide}; it learns who decided and
 * whether the facility's server failed (a failed server says nothing about a
 * PIN, so the PIN try is given back).
 */
import type { GatedTenantConfig } from '../../config/index.js';
import type { Logger } from '../../observability/index.js';
import type { GateDecision } from '../decision.js';
import type { DevicePresence } from '../devices/device-presence.js';
import type { GatedMetrics } from '../metrics.js';
import type { PinHasher } from '../pins/pin-hash.js';
import type { GatedStore } from '../store/index.js';
import type { Authenticator, Verdict } from './authenticator.js';
import { BuiltinAuthenticator } from './builtin.js';
import { HookFailure, HttpAuthenticator } from './http-authenticator.js';
import { HttpHook } from './http-hook.js';
import { refusal } from './verdicts.js';

/** What an authenticator answered, and whether the facility's server failed to. */
export interface Decided {
  readonly verdict: Verdict;
  readonly decidedBy: GateDecision['decidedBy'];
  readonly hookFailed: boolean;
}

export interface DeciderOptions {
  readonly tenants: Readonly<Record<string, GatedTenantConfig>>;
  readonly store: GatedStore;
  readonly presence: DevicePresence;
  readonly pins: PinHasher;
  readonly metrics: GatedMetrics;
  readonly logger: Logger;
  readonly now: () => number;
}

export class Decider {
  readonly #o: DeciderOptions;
  readonly #builtin: BuiltinAuthenticator;
  readonly #hooks = new Map<string, HttpAuthenticator>();

  constructor(options: DeciderOptions) {
    this.#o = options;
    this.#builtin = new BuiltinAuthenticator({
      store: options.store,
      presence: options.presence,
      pins: options.pins,
      settings: (tenant) => {
        const t = options.tenants[tenant];
        return t ? { minimumMinutes: t.minimumMinutes, callingHours: t.callingHours } : undefined;
      },
      now: options.now,
    });
    for (const [tenant, settings] of Object.entries(options.tenants)) {
      const a = settings.authenticator;
      if (a.kind !== 'http') continue;
      this.#hooks.set(
        tenant,
        new HttpAuthenticator({
          hook: new HttpHook({ url: a.url, secret: a.secret, timeoutMs: a.timeoutMs }, options.now),
          devices: options.store.devices,
          presence: options.presence,
          callingHours: settings.callingHours,
          now: options.now,
        }),
      );
    }
  }

  /** Asks the tenant's authenticator; a failed facility server is refused or replaced (onFailure). */
  async decide(
    tenant: string,
    ask: (authenticator: Authenticator) => Promise<Verdict>,
  ): Promise<Decided> {
    const hook = this.#hooks.get(tenant);
    if (!hook)
      return { verdict: await ask(this.#builtin), decidedBy: 'builtin', hookFailed: false };
    try {
      return { verdict: await ask(hook), decidedBy: 'http', hookFailed: false };
    } catch (error) {
      if (!(error instanceof HookFailure)) throw error;
      this.#o.metrics.hookFailures.inc({ tenant, reason: error.reason });
      this.#o.logger.warn(
        { tenant, reason: error.message },
        "the facility's authenticating server failed",
      );
      const failure = { name: 'authenticator' as const, ok: false, detail: error.message };
      const settings = this.#o.tenants[tenant]?.authenticator;
      if (settings?.kind === 'http' && settings.onFailure === 'builtin') {
        const verdict = await ask(this.#builtin);
        return {
          verdict: { ...verdict, checks: [failure, ...verdict.checks] },
          decidedBy: 'builtin-after-http',
          hookFailed: true,
        };
      }
      return {
        verdict: { ...refusal('authenticator', error.message), checks: [failure] },
        decidedBy: 'http',
        hookFailed: true,
      };
    }
  }
}
