import type { Server } from 'node:http';
import type { CallManager } from '../calls/index.js';
import type { Logger, Metrics } from '../observability/index.js';

/** A part closed at once (its close may start work it does not wait for). */
interface Closable {
  close(): void;
}

/** A part whose close is waited for. */
interface AsyncClosable {
  close(): Promise<void>;
}

/** Everything `startGateway` started, by name: `closeGateway` knows their order. */
export interface GatewayParts {
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly calls: CallManager;
  readonly voicemail: AsyncClosable;
  readonly desk: Closable;
  readonly gatedCalls: Closable;
  readonly gated: Closable;
  readonly callbacks: Closable;
  readonly lostGateways: Closable | undefined;
  readonly registrar: Closable;
  readonly trunks: Closable;
  readonly telephony: Closable;
  readonly agents: Closable;
  readonly marketplace: Closable;
  readonly overload: Closable;
  readonly stack: AsyncClosable;
  readonly mediaApps: Closable;
  readonly media: AsyncClosable;
  readonly speech: AsyncClosable;
  readonly server: Server;
  readonly stores: AsyncClosable;
  readonly shared: AsyncClosable;
}

/**
 * Closes a gateway, roughly in the reverse of the order it was built: what
 * takes or ends calls first (the calls in progress are ended with
 * `gateway_shutdown`), then the SIP stack once their BYEs and CANCELs left,
 * media, the HTTP server (its connections cut), and the stores and shared
 * state last (voicemail's last writes land before the database closes).
 */
export async function closeGateway(parts: GatewayParts): Promise<void> {
  const { metrics, calls } = parts;
  metrics.up.set(0);
  const hadCalls = calls.size > 0;
  const voicemailClosed = parts.voicemail.close();
  parts.desk.close();
  calls.drain();
  parts.gatedCalls.close();
  parts.gated.close();
  parts.callbacks.close();
  // Let the BYEs and CANCELs of the drain leave before the sockets close.
  await new Promise((resolve) => setTimeout(resolve, hadCalls ? 200 : 20));
  parts.lostGateways?.close();
  parts.registrar.close();
  parts.trunks.close();
  parts.telephony.close();
  parts.agents.close();
  parts.marketplace.close();
  parts.overload.close();
  await parts.stack.close();
  parts.mediaApps.close();
  await parts.media.close();
  await parts.speech.close();
  await new Promise<void>((resolve) => {
    parts.server.close(() => resolve());
    parts.server.closeAllConnections();
  });
  await voicemailClosed;
  await parts.stores.close();
  await parts.shared.close();
  parts.logger.info('gateway closed');
}
