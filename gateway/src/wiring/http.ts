import { existsSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { Config } from '../config/index.js';
import { DESK_EVENTS_PATH } from '../desk/index.js';
import { createHttpApp, createHttpServer, type HttpAppDeps } from '../http/index.js';
import { MESSAGES_PATH } from '../http/messages-ws.js';
import { v1Router, type V1Deps } from '../http/routes/v1.js';
import type { Marketplace } from '../marketplace/index.js';
import { marketplaceRouter } from '../marketplace/index.js';
import { createIceServerSource } from '../media/index.js';
import type { Logger, Metrics } from '../observability/index.js';
import type { TokenService } from '../tokens/index.js';

/**
 * Routers mounted before the modules behind them exist (routes must precede
 * the 404 handler, and HTTP starts first because SIP over WebSocket shares
 * its server); each module fills its own once it is built.
 */
export interface LateRouters {
  readonly callbacks: Router;
  readonly voicemail: Router;
  readonly desk: Router;
}

/** Where the widget's and desk's built files are served from. */
export function assetsDir(config: Config): string {
  return config.desk.assetsDir ?? fileURLToPath(new URL('../../../widget/dist/', import.meta.url));
}

export interface HttpDeps {
  readonly config: Config;
  readonly tokens: TokenService;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly health: NonNullable<HttpAppDeps['health']>;
  readonly marketplace: Marketplace;
  /** The core API's stores and directories (`/v1`), without the keys and ICE (from config). */
  readonly v1: Omit<V1Deps, 'apiKeys' | 'ice'>;
  /** Resident devices of gated tenants (`/resident`). */
  readonly resident: Router;
}

export interface Http {
  readonly server: Server;
  readonly url: string;
  readonly late: LateRouters;
}

/** The HTTP(S) server with every router mounted in order, listening. */
export async function startHttp(deps: HttpDeps): Promise<Http> {
  const { config } = deps;
  const late: LateRouters = { callbacks: Router(), voicemail: Router(), desk: Router() };
  // The widget's script for companies' pages: <script type="module" src="https://gateway/widget/parley.js">.
  const widget = Router();
  const assets = assetsDir(config);
  if (existsSync(assets)) widget.use(express.static(assets, { maxAge: '5m', fallthrough: false }));
  const app = createHttpApp({
    tokens: deps.tokens,
    metrics: deps.metrics,
    logger: deps.logger,
    trustProxy: config.http.trustProxy,
    health: deps.health,
    streamingPaths: ['/v1/call-entries'],
    routers: [
      // Before the core /v1 API: the callback request takes a token, not an API key.
      { path: '/v1/callbacks', router: late.callbacks },
      { path: '/v1', router: late.voicemail },
      // Before the core /v1 API: the placement POST takes no API key.
      {
        path: '/v1',
        router: marketplaceRouter({
          marketplace: deps.marketplace,
          apiKeys: config.api.keys,
          sipDomain: config.sip.domain,
        }),
      },
      {
        path: '/v1',
        router: v1Router({
          ...deps.v1,
          apiKeys: config.api.keys,
          ice: createIceServerSource(config.media),
        }),
      },
      { path: '/resident', router: deps.resident },
      { path: '/desk', router: late.desk },
      { path: '/widget', router: widget },
    ],
    client: {
      gatewayId: config.gatewayId,
      sipDomain: config.sip.domain,
      sipWsPath: config.sip.wsPath,
      publicUrl: config.http.publicUrl,
      iceServers: config.media.iceServers,
      iceTransportPolicy: config.media.iceTransportPolicy,
      turn: config.media.turn !== undefined,
    },
  });
  // With a certificate: HTTPS, and SIP over WSS on the same server.
  const server: Server = createHttpServer(app, config.http);
  await listen(server, config.http.port, config.http.host);
  const address = server.address() as AddressInfo;
  const scheme = config.http.tls ? 'https' : 'http';
  const host = address.address.includes(':') ? `[${address.address}]` : address.address;
  return { server, url: `${scheme}://${host}:${address.port}`, late };
}

/** A WebSocket upgrade handler: true when it took the request. */
export type UpgradeHandler = (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean;

/**
 * WebSocket upgrades go to the first handler that takes them; SIP over
 * WebSocket answers its own path; anything else is refused here.
 */
export function routeUpgrades(
  server: Server,
  sipWsPath: string,
  handlers: readonly UpgradeHandler[],
): void {
  server.on('upgrade', (req, socket, head) => {
    if (handlers.some((handle) => handle(req, socket, head))) return;
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (path !== sipWsPath && !MESSAGES_PATH.test(path) && path !== DESK_EVENTS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}
