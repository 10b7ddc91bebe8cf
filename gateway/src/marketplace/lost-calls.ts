/**
 * A dead gateway's marketplace calls, for the cluster's sweeper
 * (`cluster/lost-gateways.ts`, whose lease in Redis lapsed): closed at its
 * last heartbeat, and charged once when they had qualified before it, as its
 * own restart would. Several survivors at once: each call charged once (the
 * key).
 */
import type { LostGatewayModule } from '../cluster/index.js';
import type { Logger } from '../observability/index.js';
import type { Billing } from './billing.js';
import type { MarketplaceCallStore } from './call-store.js';

export class LostMarketplaceCalls implements LostGatewayModule {
  readonly name = 'marketplace';
  readonly #calls: MarketplaceCallStore;
  readonly #billing: Billing;
  readonly #now: () => number;
  readonly #log: Logger;

  constructor(o: {
    readonly calls: MarketplaceCallStore;
    readonly billing: Billing;
    readonly now: () => number;
    readonly log: Logger;
  }) {
    this.#calls = o.calls;
    this.#billing = o.billing;
    this.#now = o.now;
    this.#log = o.log;
  }

  /** Gateways other than this one with open marketplace calls (shared stores; none with SQLite). */
  async openOwners(): Promise<string[]> {
    return (await this.#calls.openOwners?.()) ?? [];
  }

  async recoverLost(owner: string): Promise<{ charged: number; closed: number }> {
    const recovered = await this.#billing.recover(this.#now(), owner);
    if (recovered.closed > 0)
      this.#log.warn(
        { instance: owner, ...recovered },
        'closed the marketplace calls of a lost gateway',
      );
    return recovered;
  }
}
