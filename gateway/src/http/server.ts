/**
 * The gateway's HTTP(S) server, with limits against slow and greedy clients:
 * a request's headers (an upgrade's too: Node cannot know it is one before
 * they end) must arrive within `headersTimeoutMs`, the whole request within
 * `requestTimeoutMs`, checked every second rather than Node's 30 s; and one
 * client address holds at most `maxConnectionsPerSource` connections
 * (trusted proxies are not counted: every client behind them shares their address).
 */
import { readFileSync } from 'node:fs';
import { createServer, type RequestListener, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { Socket } from 'node:net';
import { addressList, inList } from '../sip/index.js';

export interface HttpServerOptions {
  readonly tls?: { readonly cert: string; readonly key: string } | undefined;
  readonly headersTimeoutMs: number;
  readonly requestTimeoutMs: number;
  readonly maxConnectionsPerSource: number;
  readonly trustProxy: readonly string[];
  /** A connection refused for its source (for metrics). */
  readonly onRefused?: (source: string) => void;
}

export function createHttpServer(app: RequestListener, options: HttpServerOptions): Server {
  const limits = {
    headersTimeout: options.headersTimeoutMs,
    requestTimeout: Math.max(options.requestTimeoutMs, options.headersTimeoutMs),
    // How often Node looks for requests past those timeouts (default 30 s).
    connectionsCheckingInterval: 1000,
  };
  const tls = options.tls;
  const server: Server = tls
    ? createTlsServer({ ...limits, cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, app)
    : createServer(limits, app);
  const proxies = addressList(options.trustProxy);
  const perSource = new Map<string, number>();
  // 'connection' sees the TCP socket before TLS and before any byte is read.
  server.on('connection', (socket: Socket) => {
    const source = socket.remoteAddress ?? '';
    if (inList(proxies, source)) return;
    const open = perSource.get(source) ?? 0;
    if (open >= options.maxConnectionsPerSource) {
      options.onRefused?.(source);
      socket.destroy();
      return;
    }
    perSource.set(source, open + 1);
    socket.once('close', () => {
      const left = (perSource.get(source) ?? 1) - 1;
      if (left <= 0) perSource.delete(source);
      else perSource.set(source, left);
    });
  });
  return server;
}

/**
 * Express's `trust proxy` for `http.trustProxy`: `X-Forwarded-For` is read only
 * from these addresses; `req.ip` is then the last address a trusted hop added.
 */
export function trustProxyFn(trusted: readonly string[]): (address: string) => boolean {
  const list = addressList(trusted);
  return (address) => inList(list, address);
}
