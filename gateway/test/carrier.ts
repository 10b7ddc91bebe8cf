/**
 * The carrier side of trunk tests: the carrier's phones and sipp scenarios
 * sit on a second loopback address, so the gateway tells the trunk's calls
 * from visitors' (127.0.0.1) by their source address.
 */
import type { ConfigInput } from '../src/config/index.js';
import { TENANT } from './harness.js';

export const CARRIER = '127.0.0.2';

export type TrunkInput = NonNullable<ConfigInput['trunks']>[string];

export type AgentInput = NonNullable<ConfigInput['agents']>[number];

/**
 * A trunk to the carrier (on `port` when the gateway calls out to it; on
 * `host`, default {@link CARRIER}), with no OPTIONS keep-alive and US
 * numbers; each of `dids` (number → flow) runs that flow of the test tenant.
 */
export function carrierTrunk(
  options: { host?: string; port?: number; dids?: Record<string, string> } = {},
): TrunkInput {
  return {
    peers: [{ host: options.host ?? CARRIER, ...(options.port ? { port: options.port } : {}) }],
    keepAlive: { intervalSeconds: 0 },
    defaultCountry: 'US',
    ...(options.dids
      ? {
          inbound: {
            numbers: Object.entries(options.dids).map(([number, flow]) => ({
              number,
              tenant: TENANT,
              flow,
            })),
          },
        }
      : {}),
  };
}

/** An agent of the test tenant who is a telephone number, called through `trunk` (`agents[].phone`). */
export function phoneAgent(
  id: string,
  phone: string,
  trunk: string,
  queues: readonly string[] = ['sales'],
): AgentInput {
  return { id, tenant: TENANT, password: 'secret', queues: [...queues], phone, trunk };
}
