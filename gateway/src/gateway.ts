import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { AddressInfo } from 'node:net';
import type { ReplayStore } from '@parley/shared/tokens';
import { CallManager, MessageHub } from './calls/index.js';
import { MESSAGES_PATH, messagesUpgrade } from './http/messages-ws.js';
import {
  DESK_EVENTS_PATH,
  DeskHub,
  DeskSessions,
  deskEventsUpgrade,
  deskRouter,
} from './desk/index.js';
import type { Config } from './config/index.js';
import { createHttpApp } from './http/index.js';
import { v1Router } from './http/routes/v1.js';
import { createIceServerSource, createMediaEngine, type MediaEngine } from './media/index.js';
import { SessionNumberPool } from './numbers/index.js';
import { createLogger, Metrics, registerLiveGauges, type Logger } from './observability/index.js';
import {
  AgentAdmin,
  AgentDirectory,
  ValueService,
  customerHistory,
  loadValueModule,
  weightedAlgorithm,
  type TenantValueConfig,
} from './routing/index.js';
import {
  callToken,
  destination,
  maxForwards,
  refuse,
  runInvitePipeline,
  scrubHeaders,
  sdpOffer,
  sourceLimit,
  tenantLimit,
  type InviteContext,
  type InviteMiddleware,
} from './sbc/index.js';
import { Registrar } from './sip/registrar/registrar.js';
import { SipStack, type SipProtocol } from './sip/index.js';
import {
  SqliteAgentStore,
  SqliteCallStore,
  SqliteMessageStore,
  SqliteSessionStore,
  openDatabase,
  type CallStore,
  type SessionStore,
} from './storage/index.js';
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
  /** SIP listeners' addresses after start (port 0 becomes the real port). */
  readonly sip: { readonly udp?: string; readonly tcp?: string; readonly ws: string };
  readonly tokens: TokenService;
  readonly metrics: Metrics;
  readonly logger: Logger;
  readonly stack: SipStack;
  readonly calls: CallManager;
  readonly callStore: CallStore;
  readonly sessions: SessionStore;
  readonly agents: AgentDirectory;
  readonly numbers: SessionNumberPool;
  readonly media: MediaEngine;
  close(): Promise<void>;
}

/**
 * The composition root: builds every module from the config and passes
 * dependencies in. Nothing else creates modules or reads the environment.
 */
export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log.level);
  const now = options.now ?? Date.now;
  const metrics = new Metrics();
  const db = openDatabase(config.storage.path);
  const callStore = new SqliteCallStore(db);
  // Calls a crash or a kill left open: closed now, so no record stays "in progress" for ever.
  const interrupted = callStore.closeInterrupted(now());
  if (interrupted > 0)
    logger.warn({ calls: interrupted }, 'closed the records of calls interrupted by the last stop');
  const sessions = new SqliteSessionStore(db);
  const messageStore = new SqliteMessageStore(db);
  const tokens = await createTokenService({
    config,
    metrics,
    logger,
    ...(options.replayStore ? { replayStore: options.replayStore } : {}),
    now,
  });
  const numbers = new SessionNumberPool({
    config: config.numbers,
    store: sessions,
    logger,
    now,
    onExhausted: () => metrics.numbersExhausted.inc(),
  });
  const agents = new AgentDirectory(config.agents, now);
  // Agents created through the API live in storage, next to the config file's.
  const agentAdmin = new AgentAdmin({
    directory: agents,
    store: new SqliteAgentStore(db),
    realm: config.sip.domain,
    configured: new Set(config.agents.map((a) => a.id)),
    tenantExists: (tenant) => config.tenants[tenant] !== undefined,
    queueTenant: (queue) => config.queues[queue]?.tenant,
    logger,
    now,
  });
  const storedAgents = agentAdmin.load();
  logger.info({ configured: config.agents.length, stored: storedAgents }, 'agents loaded');
  const valueTenants: Record<string, TenantValueConfig> = {};
  for (const [id, tenant] of Object.entries(config.tenants)) {
    const routing = tenant.routing;
    if (!routing) continue;
    const algorithm =
      routing.algorithm.kind === 'module'
        ? await loadValueModule(routing.algorithm.path, '/')
        : weightedAlgorithm({
            version: routing.algorithm.version,
            weights: routing.algorithm.weights,
            tiers: routing.algorithm.tiers.map((t) => ({
              name: t.name,
              minValue: t.minValue ?? Number.NEGATIVE_INFINITY,
            })),
          });
    valueTenants[id] = {
      benefit: routing.benefit,
      burden: routing.burden,
      algorithm,
      historyWindowDays: routing.historyWindowDays,
      algorithmTimeoutMs: routing.algorithmTimeoutMs,
    };
  }
  const value = new ValueService({
    tenants: valueTenants,
    history: customerHistory(callStore),
    logger,
    now,
  });
  const media = await createMediaEngine(config.media.engine, {
    address: config.media.address,
    ...(config.media.announcedAddress ? { announcedAddress: config.media.announcedAddress } : {}),
    portMin: config.media.portMin,
    portMax: config.media.portMax,
    webrtcPortMin: config.media.webrtcPortMin,
    webrtcPortMax: config.media.webrtcPortMax,
    mediasoup: {
      workers: config.media.mediasoup.workers,
      workerBin: config.media.mediasoup.workerBin,
      logLevel: config.media.mediasoup.logLevel,
      statsIntervalMs: config.media.mediasoup.statsIntervalSeconds * 1000,
    },
    logger,
  });

  // HTTP first: SIP over WebSocket shares its server.
  let closing = false;
  const live: { calls?: CallManager } = {};
  // Mounted now, filled once the call manager exists (routes must precede the 404 handler).
  const deskMount = Router();
  const assetsDir =
    config.desk.assetsDir ?? fileURLToPath(new URL('../../widget/dist/', import.meta.url));
  // The widget's script for companies' pages: <script type="module" src="https://gateway/widget/parley.js">.
  const widgetMount = Router();
  if (existsSync(assetsDir))
    widgetMount.use(express.static(assetsDir, { maxAge: '5m', fallthrough: false }));
  const app = createHttpApp({
    tokens,
    metrics,
    logger,
    health: () => ({ ok: !closing, calls: live.calls?.size ?? 0 }),
    routers: [
      {
        path: '/v1',
        router: v1Router({
          apiKeys: config.api.keys,
          agents,
          admin: agentAdmin,
          calls: callStore,
          sessions,
          numbers,
          messages: messageStore,
          live: (id) => live.calls?.get(id)?.record,
          ice: createIceServerSource(config.media),
        }),
      },
      { path: '/desk', router: deskMount },
      { path: '/widget', router: widgetMount },
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
  const tls = config.http.tls;
  // With a certificate: HTTPS, and SIP over WSS on the same server.
  const server: Server = tls
    ? createTlsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, app)
    : createServer(app);
  await listen(server, config.http.port, config.http.host);
  const address = server.address() as AddressInfo;
  const scheme = tls ? 'https' : 'http';
  const httpUrl = `${scheme}://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  const stack = new SipStack({
    listen: config.sip.listen,
    ws: { server, path: config.sip.wsPath, secure: tls !== undefined },
    advertisedHost: config.sip.advertisedHost,
    maxMessageBytes: config.sip.maxMessageBytes,
    timers: { t1: config.sip.t1Ms, t2: config.sip.t2Ms, t4: config.sip.t4Ms },
    userAgent: config.sip.userAgent,
    logger,
  });
  await stack.start();
  stack.transport.on('request', (request) => metrics.sipRequests.inc({ method: request.method }));
  stack.transport.on('dropped', () => metrics.sipDropped.inc());
  stack.screen(sourceLimit(stack, config.sip.rateLimit, () => metrics.sipRateLimited.inc()));

  const registrar = new Registrar({
    stack,
    realm: config.sip.domain,
    credentials: (username) => agents.credentials(username),
    algorithms: config.sip.digestAlgorithms,
    minExpires: config.sip.registration.minExpires,
    maxExpires: config.sip.registration.maxExpires,
    defaultExpires: config.sip.registration.defaultExpires,
    onBindings: (agentId, bindings) =>
      agents.setContacts(
        agentId,
        bindings.map((b) => ({ uri: b.uri, expiresAt: b.expiresAt, flowId: b.flowId })),
      ),
    logger,
    now,
  });
  stack.onRegister((request, tx) => registrar.handle(request, tx));
  agents.on('removed', (agentId) => registrar.forget(agentId));

  const callManager = new CallManager({
    stack,
    media,
    agents,
    bindings: (agentId) => agents.get(agentId)?.contacts ?? [],
    numbers,
    calls: callStore,
    logger,
    domain: config.sip.domain,
    tenantName: (tenant) => config.tenants[tenant]?.name,
    queue: (name) => {
      const q = config.queues[name];
      return {
        ringTimeoutSeconds: q?.ringTimeoutSeconds ?? 20,
        maxAttempts: q?.maxAttempts ?? 3,
        wrapUpSeconds: q?.wrapUpSeconds ?? 0,
        routing: {
          strategy: q?.strategy ?? 'sequential',
          ringAtOnce: q?.ringAtOnce ?? 1,
          bands: q?.bands ?? {},
        },
      };
    },
    mediaInactivityMs: config.media.inactivityTimeoutSeconds * 1000,
    value,
    onOutcome: (record) => {
      metrics.calls.inc({ outcome: record.outcome ?? 'failed' });
      if (record.answeredAt !== null)
        metrics.callSetupSeconds.observe((record.answeredAt - record.createdAt) / 1000);
    },
    now,
  });
  live.calls = callManager;
  stack.transport.on('flowClosed', (flow) => callManager.flowClosed(flow));
  const hub = new MessageHub({
    store: messageStore,
    logger,
    now,
    onMessage: (from, ok) => metrics.messages.inc({ from, result: ok ? 'stored' : 'refused' }),
  });
  callManager.onCall((call) => hub.attach(call));
  const onMessagesUpgrade = messagesUpgrade({
    apiKeys: config.api.keys,
    calls: callManager,
    store: callStore,
    hub,
  });

  const deskSessions = new DeskSessions({
    secret: config.desk.sessionSecret,
    now,
    agent: (agentId) => {
      const presence = agents.get(agentId);
      const stamp = agents.credentialStamp(agentId);
      return presence && stamp ? { tenant: presence.tenant, stamp } : undefined;
    },
  });
  const deskHub = new DeskHub({
    calls: callManager,
    store: callStore,
    messages: hub,
    agents,
    logger,
  });
  deskMount.use(
    deskRouter({
      sessions: deskSessions,
      agents,
      calls: callManager,
      store: callStore,
      webSessions: sessions,
      messages: hub,
      sipDomain: config.sip.domain,
      sipWsPath: config.sip.wsPath,
      assetsDir:
        config.desk.assetsDir ?? fileURLToPath(new URL('../../widget/dist/', import.meta.url)),
    }),
  );
  const onDeskUpgrade = deskEventsUpgrade({ sessions: deskSessions, hub: deskHub });

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (onMessagesUpgrade(req, socket, head) || onDeskUpgrade(req, socket, head)) return;
    // SIP over WebSocket answers its own path; anything else is refused here.
    if (path !== config.sip.wsPath && !MESSAGES_PATH.test(path) && path !== DESK_EVENTS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });

  // The visitor INVITE pipeline: transport → parse → SBC middlewares → call.
  const pipeline: InviteMiddleware[] = [
    scrubHeaders,
    maxForwards,
    destination(new Set(Object.keys(config.queues))),
    callToken(tokens, (queue) => config.queues[queue]?.tenant, config.sip.domain),
    tenantLimit(
      (tenant) => callManager.activeCount(tenant),
      (tenant) => config.tenants[tenant]?.maxConcurrentCalls ?? 0,
    ),
    sdpOffer,
  ];
  const lag = lagMonitor();
  stack.onInvite((invite, tx) => {
    // Overload: refuse at once, before any work, so retransmissions do not pile up.
    if (
      callManager.settingUp >= config.sip.overload.maxSetupsInProgress ||
      lag.current() > config.sip.overload.maxLagMs
    ) {
      metrics.invitesRefused.inc({ reason: 'overloaded' });
      refuse(stack, tx, { code: 'overloaded', headers: [['Retry-After', '5']] });
      return;
    }
    let cancelled = false;
    tx.once('cancel', () => (cancelled = true));
    const ctx: InviteContext = { invite, tx, flow: tx.flow };
    void (async () => {
      try {
        const refusal = await runInvitePipeline(pipeline, ctx);
        if (refusal) {
          metrics.invitesRefused.inc({ reason: refusal.code });
          logger.info(
            {
              reason: refusal.code,
              detail: refusal.detail,
              source: tx.flow.remote.address,
              callId: invite.callId,
            },
            'INVITE refused',
          );
          if (tx.finalStatus === undefined) refuse(stack, tx, refusal);
          return;
        }
        const token = ctx.token;
        if (token) {
          sessions.touch({
            tenant: token.claims.iss,
            sessionId: token.claims.sub,
            origin: token.claims.origin,
            publicClaims: token.claims,
            privateClaims: token.privateClaims,
            at: now(),
          });
        }
        await callManager.admit(ctx, () => cancelled);
      } catch (error) {
        logger.error({ err: error, callId: invite.callId }, 'INVITE handling failed');
        if (tx.finalStatus === undefined) stack.respond(tx, 500);
      }
    })();
  });

  registerLiveGauges(metrics, {
    activeCalls: () => callManager.size,
    transactions: () => stack.transactions.stats(),
    dialogs: () => stack.dialogCount,
    mediaRouters: () => media.routerCount,
    numbersLeased: () => numbers.leased,
    agentsRegistered: () => agents.list().filter((a) => a.registered).length,
  });
  metrics.up.set(1);
  const endpoint = (protocol: SipProtocol) => {
    const local = stack.transport.local(protocol);
    return local ? `${local.address}:${local.port}` : undefined;
  };
  const sip = {
    ...(endpoint('UDP') ? { udp: endpoint('UDP') } : {}),
    ...(endpoint('TCP') ? { tcp: endpoint('TCP') } : {}),
    ws: `${httpUrl.replace(/^http/, 'ws')}${config.sip.wsPath}`,
  };
  logger.info(
    { httpUrl, sip, gatewayId: config.gatewayId, tenants: Object.keys(config.tenants) },
    'gateway listening',
  );

  let closed: Promise<void> | undefined;
  return {
    config,
    httpUrl,
    sip,
    tokens,
    metrics,
    logger,
    stack,
    calls: callManager,
    callStore,
    sessions,
    agents,
    numbers,
    media,
    close() {
      closed ??= (async () => {
        closing = true;
        metrics.up.set(0);
        const hadCalls = callManager.size > 0;
        callManager.drain();
        // Let the BYEs and CANCELs of the drain leave before the sockets close.
        await new Promise((resolve) => setTimeout(resolve, hadCalls ? 200 : 20));
        registrar.close();
        agents.close();
        lag.stop();
        await stack.close();
        await media.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        db.close();
        logger.info('gateway closed');
      })();
      return closed;
    },
  };
}

/** How late a 50 ms timer fires: the event loop's current lag (a smoothed value). */
function lagMonitor(): { current(): number; stop(): void } {
  let lag = 0;
  let expected = performance.now() + 50;
  const timer = setInterval(() => {
    const now = performance.now();
    lag = lag * 0.5 + Math.max(0, now - expected) * 0.5;
    expected = now + 50;
  }, 50);
  timer.unref();
  return { current: () => lag, stop: () => clearInterval(timer) };
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
