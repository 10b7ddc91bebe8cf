import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ReplayStore } from '@parley/shared/tokens';
import type { Config } from './config/index.js';
import { createHttpApp } from './http/index.js';
import { createLogger, Metrics, type Logger } from './observability/index.js';
import { createTokenService, type TokenService } from './tokens/index.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  readonly replayStore?: ReplayStore;
  readonly now?: () => number;
}

/** A running gateway. `close()` stops everything it started; safe to call twice. */
export interface Gateway {
  readonly config: Config;
  readonly httpUrl: string;
  readonly tokens: TokenService;
  readonly metrics: Metrics;
  readonly logger: Logger;
  close(): Promise<void>;
}

/**
 * The composition root: builds every module from the config and passes
 * dependencies in. Nothing else creates modules or reads the environment.
 */
export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log.level);
  const metrics = new Metrics();
  const tokens = await createTokenService({
    config,
    metrics,
    logger,
    ...(options.replayStore ? { replayStore: options.replayStore } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  let closing = false;
  const app = createHttpApp({ tokens, metrics, logger, health: () => ({ ok: !closing }) });
  const server: Server = createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.http.port, config.http.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const httpUrl = `http://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;
  metrics.up.set(1);
  logger.info({ httpUrl, gatewayId: config.gatewayId, tenants: Object.keys(config.tenants) }, 'gateway listening');

  let closed: Promise<void> | undefined;
  return {
    config,
    httpUrl,
    tokens,
    metrics,
    logger,
    close() {
      closed ??= (async () => {
        closing = true;
        metrics.up.set(0);
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        logger.info('gateway closed');
      })();
      return closed;
    },
  };
}
