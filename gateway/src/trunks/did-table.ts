/**
 * A trunk's inbound numbers: each DID or block of DIDs names the tenant and the
 * flow that answer it. A single number wins over a block that holds it; among
 * blocks, the first listed.
 */
import { NumberRanges } from '../numbers/index.js';

export interface DidRoute {
  readonly tenant: string;
  /** The flow name the call is handed to. */
  readonly flow: string;
}

export interface DidEntry extends DidRoute {
  readonly number?: string | undefined;
  readonly from?: string | undefined;
  readonly to?: string | undefined;
}

export class DidTable {
  readonly #single = new Map<string, DidRoute>();
  readonly #blocks: NumberRanges;
  readonly #blockRoutes: readonly DidRoute[];

  constructor(entries: readonly DidEntry[]) {
    const blocks: { from: string; to: string }[] = [];
    const routes: DidRoute[] = [];
    for (const entry of entries) {
      const route = { tenant: entry.tenant, flow: entry.flow };
      if (entry.number !== undefined) {
        if (!this.#single.has(entry.number)) this.#single.set(entry.number, route);
      } else if (entry.from !== undefined && entry.to !== undefined) {
        blocks.push({ from: entry.from, to: entry.to });
        routes.push(route);
      }
    }
    this.#blocks = new NumberRanges(blocks);
    this.#blockRoutes = routes;
  }

  /** The route of an E.164 number, or undefined when the trunk has no such number. */
  lookup(e164: string): DidRoute | undefined {
    return this.#single.get(e164) ?? this.#blockRoutes[this.#blocks.indexOf(e164)];
  }
}

/**
 * Which trunk (and tenant) an inbound number reaches the gateway through,
 * across every configured trunk (the first that lists it); for start-up
 * cross-checks of numbers other modules hand out (marketplace tracking numbers).
 */
export function inboundNumberLookup(
  trunks: Readonly<Record<string, { readonly inbound: { readonly numbers: readonly DidEntry[] } }>>,
): (e164: string) => { readonly trunk: string; readonly tenant: string } | undefined {
  const tables = Object.entries(trunks).map(
    ([trunk, t]) => [trunk, new DidTable(t.inbound.numbers)] as const,
  );
  return (e164) => {
    for (const [trunk, table] of tables) {
      const route = table.lookup(e164);
      if (route) return { trunk, tenant: route.tenant };
    }
    return undefined;
  };
}
