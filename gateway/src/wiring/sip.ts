import type { Server } from 'node:http';
import type { AgentDirectory } from '../agents/index.js';
import { hangUpInterrupted } from '../calls/index.js';
import type { Config } from '../config/index.js';
import type { GatedModule } from '../gated/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import { sourceLimit } from '../sbc/index.js';
import { Registrar } from '../sip/registrar/registrar.js';
import { SipStack, type SipProtocol } from '../sip/index.js';
import type { InterruptedCall } from '../storage/index.js';
import { Trunks, trunkSources } from '../trunks/index.js';

export interface SipDeps {
  readonly config: Config;
  /** The HTTP(S) server SIP over WebSocket shares. */
  readonly server: Server;
  readonly agents: AgentDirectory;
  readonly gated: GatedModule;
  /** Calls the last stop left open: their legs that can still be reached get a BYE. */
  readonly interrupted: readonly InterruptedCall[];
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly now: () => number;
}

export interface Sip {
  readonly stack: SipStack;
  readonly trunks: Trunks;
  readonly registrar: Registrar;
}

/** The SIP stack listening, with its per-source limits, the carriers' trunks and the registrar. */
export async function startSip(deps: SipDeps): Promise<Sip> {
  const { config, metrics, logger, agents, gated } = deps;
  // A proxy in front and the carriers' peers are never limited per source.
  const rateExempt = [...config.sip.rateLimit.exempt, ...trunkSources(config.trunks)];
  const stack = new SipStack({
    listen: config.sip.listen,
    ws: { server: deps.server, path: config.sip.wsPath, secure: config.http.tls !== undefined },
    advertisedHost: config.sip.advertisedHost,
    maxMessageBytes: config.sip.maxMessageBytes,
    tcp: { ...config.sip.tcp, exempt: rateExempt },
    edge: config.sip.edge.trusted,
    timers: { t1: config.sip.t1Ms, t2: config.sip.t2Ms, t4: config.sip.t4Ms },
    userAgent: config.sip.userAgent,
    logger,
  });
  await stack.start();
  hangUpInterrupted(stack, deps.interrupted, logger);
  stack.transport.on('request', (request) => metrics.sipRequests.inc({ method: request.method }));
  stack.transport.on('dropped', () => metrics.sipDropped.inc());
  stack.screen(
    sourceLimit(stack, { ...config.sip.rateLimit, exempt: rateExempt }, () =>
      metrics.sipRateLimited.inc(),
    ),
  );
  // An accepted trunk call runs its DID's flow once telephony is built.
  const trunks = new Trunks({ config: config.trunks, stack, logger, metrics });
  trunks.start();

  const registrar = new Registrar({
    stack,
    realm: config.sip.domain,
    // Resident devices of gated tenants register beside agents (their SIP usernames are Parley's own).
    credentials: (username) => agents.credentials(username) ?? gated.gate.sipCredentials(username),
    algorithms: config.sip.digestAlgorithms,
    minExpires: config.sip.registration.minExpires,
    maxExpires: config.sip.registration.maxExpires,
    defaultExpires: config.sip.registration.defaultExpires,
    security: config.sip.registration,
    onAuthFailure: (reason) => metrics.registrarAuthFailures.inc({ reason }),
    onLockout: () => metrics.registrarLockouts.inc(),
    onBindings: (agentId, bindings) => {
      const contacts = bindings.map((b) => ({
        uri: b.uri,
        expiresAt: b.expiresAt,
        flowId: b.flowId,
        path: b.path,
        transport: b.transport,
      }));
      agents.setContacts(agentId, contacts);
      gated.gate.deviceBindings(agentId, contacts);
    },
    logger,
    now: deps.now,
  });
  stack.onRegister((request, tx) => void registrar.handle(request, tx));
  agents.on('removed', (agentId) => registrar.forget(agentId));
  return { stack, trunks, registrar };
}

/** The SIP listeners' addresses after start (port 0 becomes the real port). */
export function sipAddresses(
  stack: SipStack,
  httpUrl: string,
  wsPath: string,
): { readonly udp?: string; readonly tcp?: string; readonly ws: string } {
  const endpoint = (protocol: SipProtocol) => {
    const local = stack.transport.local(protocol);
    return local ? `${local.address}:${local.port}` : undefined;
  };
  const udp = endpoint('UDP');
  const tcp = endpoint('TCP');
  return {
    ...(udp ? { udp } : {}),
    ...(tcp ? { tcp } : {}),
    ws: `${httpUrl.replace(/^http/, 'ws')}${wsPath}`,
  };
}
