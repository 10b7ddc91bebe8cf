import { existsSync } from 'node:fs';
import type { Server } from 'node:http';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';
import type { AddressInfo } from 'node:net';
import type { ReplayStore } from '@parley/shared/tokens';
import {
  CallManager,
  MessageHub,
  Telephony,
  hangUpInterrupted,
  visitorFallbacks,
} from './calls/index.js';
import { createSharedState, type SharedState } from './cluster/index.js';
import { FLOW_SCHEMA } from './flows/index.js';
import { MESSAGES_PATH, messagesUpgrade } from './http/messages-ws.js';
import {
  DESK_EVENTS_PATH,
  DeskHub,
  DeskSessions,
  deskEventsUpgrade,
  deskRouter,
} from './desk/index.js';
import type { Config } from './config/index.js';
import { createHttpApp, createHttpServer } from './http/index.js';
import { v1Router } from './http/routes/v1.js';
import { createIceServerSource, createMediaEngine, type MediaEngine } from './media/index.js';
import { NumberRanges, SessionNumberPool } from './numbers/index.js';
import { MediaApps } from './media/apps/index.js';
import { createLogger, Metrics, registerLiveGauges, type Logger } from './observability/index.js';
import { AgentAdmin, AgentDirectory } from './agents/index.js';
import { customerHistory, queueSettings, valueServiceFromConfig } from './routing/index.js';
import { reasonHeader } from './sbc/refusal.js';
import {
  agentPolicy,
  inviteHandler,
  overloadGuard,
  sourceLimit,
  visitorPipeline,
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
import { GatedCallPath } from './gated/call/index.js';
import { createGatedModule, type GatedModule, type PinHasher } from './gated/index.js';
import { Trunks, trunkSources } from './trunks/index.js';
import { createSpeech, type Speech } from './speech/index.js';
import { LEDGER_SCHEMA } from './ledger/index.js';
import {
  MARKETPLACE_SCHEMA,
  Marketplace,
  marketplaceRouter,
  trackedCalls,
} from './marketplace/index.js';
import {
  CALLBACKS_SCHEMA,
  createCallbacksModule,
  type CallbacksModule,
} from './callbacks/index.js';
import { VOICEMAIL_SCHEMA, wireVoicemail, type Voicemails } from './voicemail/index.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  readonly replayStore?: ReplayStore;
  readonly now?: () => number;
  /** scrypt parameters of gated PINs (tests lower them). */
  readonly pins?: PinHasher;
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
  /** Players, recorders, DTMF listeners and transcriber feeds on call legs (one pacer). */
  readonly mediaApps: MediaApps;
  /** Gated facilities (docs/gated.md): `gated.gate` and `gated.meter` are the call path's hooks. */
  readonly gated: GatedModule;
  readonly sessions: SessionStore;
  readonly agents: AgentDirectory;
  readonly numbers: SessionNumberPool;
  readonly media: MediaEngine;
  /** Carrier trunks (`trunks.<id>`); `trunks.setCallHook` decides what answers their calls. */
  readonly trunks: Trunks;
  /** Text to speech and the transcriber (used by flows: say, transcribe). */
  readonly speech: Speech;
  /** Flows on real calls: the runner, queueing, flow events; trunk calls run their DID's flow. */
  readonly telephony: Telephony;
  /** Advertisers, listings, auctions, tracking numbers, billing (its `hooks` are for the call path). */
  readonly marketplace: Marketplace;
  /** Callbacks (docs/callbacks.md): the customer called first, the advertiser after "1". */
  readonly callbacks: CallbacksModule;
  /** Live voicemail (docs/voicemail.md). */
  readonly voicemails: Voicemails;
  /** True from the first `drain()` on. */
  readonly draining: boolean;
  /**
   * Drains, then closes (SIGTERM, docs/scaling.md): OPTIONS are answered 503
   * (a proxy's probing takes the gateway out of its set), new INVITEs are
   * refused 503 `gateway_shutdown`, `/healthz` says draining; the calls in
   * progress get `timeoutMs` (config `drainTimeoutSeconds`) to finish, then
   * the rest are ended with `gateway_shutdown`. Safe twice.
   */
  drain(timeoutMs?: number): Promise<void>;
  /** The state shared with the cluster's other gateways (Redis), and this gateway's instance id. */
  readonly shared: SharedState;
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
  // Redis-backed shared state when shared.redis is set (docs/scaling.md); else all in process.
  const shared = await createSharedState({ config, registry: metrics.registry, logger, now });
  const db = openDatabase(config.storage.path, [
    LEDGER_SCHEMA,
    MARKETPLACE_SCHEMA,
    FLOW_SCHEMA,
    CALLBACKS_SCHEMA,
    VOICEMAIL_SCHEMA,
  ]);
  const callStore = new SqliteCallStore(db);
  // Calls a crash or a kill left open: closed now, so no record stays "in progress" for ever
  // (their legs that can still be reached get a BYE once SIP listens).
  const interrupted = await callStore.closeInterrupted(now());
  if (interrupted.length > 0)
    logger.warn(
      { calls: interrupted.length },
      'closed the records of calls interrupted by the last stop',
    );
  const sessions = new SqliteSessionStore(db);
  const speech = createSpeech(config, { logger, metrics });
  const messageStore = new SqliteMessageStore(db);
  const gated = createGatedModule({
    config,
    db,
    registry: metrics.registry,
    logger,
    now,
    ...(options.pins ? { pins: options.pins } : {}),
  });
  const tokens = await createTokenService({
    config,
    metrics,
    logger,
    ...((options.replayStore ?? shared.replayStore)
      ? { replayStore: options.replayStore ?? shared.replayStore }
      : {}),
    now,
  });
  const callerNumbers = new Map(
    Object.entries(config.tenants).map(([id, t]) => [id, new NumberRanges(t.callerNumbers)]),
  );
  const numbers = await SessionNumberPool.load({
    config: config.numbers,
    store: sessions,
    logger,
    now,
    onExhausted: () => metrics.numbersExhausted.inc(),
    claimRanges: (tenant) => callerNumbers.get(tenant),
    onClaim: (outcome) =>
      metrics.callerNumberClaims.inc(
        outcome.accepted
          ? { result: 'accepted', reason: '' }
          : { result: 'refused', reason: outcome.reason },
      ),
  });
  const agents = new AgentDirectory(config.agents, now, shared.agentLocks);
  // Agents created through the API live in storage, next to the config file's.
  const agentAdmin = new AgentAdmin({
    directory: agents,
    store: new SqliteAgentStore(db),
    realm: config.sip.domain,
    configured: new Set(config.agents.map((a) => a.id)),
    tenantExists: (tenant) => config.tenants[tenant] !== undefined,
    queueTenant: (queue) => config.queues[queue]?.tenant,
    policy: agentPolicy(config.tenants),
    logger,
    now,
  });
  const marketplace = new Marketplace({
    db,
    config: config.marketplace,
    environment: {
      tenantExists: (tenant) => config.tenants[tenant] !== undefined,
      queueTenant: (queue) => config.queues[queue]?.tenant,
      agentTenant: (agent) => agents.get(agent)?.tenant,
    },
    registry: metrics.registry,
    logger,
    now,
  });
  marketplace.start();
  const storedAgents = await agentAdmin.load();
  logger.info({ configured: config.agents.length, stored: storedAgents }, 'agents loaded');
  // Registrations and availability made through the cluster's other gateways (with Redis).
  await shared.syncAgents(agents);
  const value = await valueServiceFromConfig({
    tenants: config.tenants,
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
  const mediaApps = new MediaApps({
    logger,
    metrics: {
      players: metrics.mediaPlayers,
      recorders: metrics.mediaRecorders,
      feeds: metrics.mediaFeeds,
      lateFrames: metrics.mediaLateFrames,
      skippedFrames: metrics.mediaSkippedFrames,
      errors: metrics.mediaAppErrors,
    },
  });

  // HTTP first: SIP over WebSocket shares its server.
  let closing = false;
  let draining = false;
  const live: { calls?: CallManager } = {};
  // Mounted now, filled once the call manager exists (routes must precede the 404 handler).
  const deskMount = Router();
  // Filled once the call manager exists, like the desk's.
  const voicemailMount = Router();
  const assetsDir =
    config.desk.assetsDir ?? fileURLToPath(new URL('../../widget/dist/', import.meta.url));
  // The widget's script for companies' pages: <script type="module" src="https://gateway/widget/parley.js">.
  const widgetMount = Router();
  // Filled once the SIP stack exists (the callbacks place calls).
  const callbacksMount = Router();
  if (existsSync(assetsDir))
    widgetMount.use(express.static(assetsDir, { maxAge: '5m', fallthrough: false }));
  const app = createHttpApp({
    tokens,
    metrics,
    logger,
    trustProxy: config.http.trustProxy,
    // Draining answers 503 too: a load balancer's health check stops sending browsers here.
    health: () => ({
      ok: !closing && !draining,
      draining,
      calls: live.calls?.size ?? 0,
      ...shared.health(),
    }),
    streamingPaths: ['/v1/call-entries'],
    routers: [
      // Before the core /v1 API: the callback request takes a token, not an API key.
      { path: '/v1/callbacks', router: callbacksMount },
      { path: '/v1', router: voicemailMount },
      // Before the core /v1 API: the placement POST takes no API key.
      {
        path: '/v1',
        router: marketplaceRouter({
          marketplace,
          apiKeys: config.api.keys,
          sipDomain: config.sip.domain,
        }),
      },
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
          gated: gated.adminRouter,
        }),
      },
      { path: '/resident', router: gated.deviceRouter },
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
  const server: Server = createHttpServer(app, config.http);
  await listen(server, config.http.port, config.http.host);
  const address = server.address() as AddressInfo;
  const scheme = tls ? 'https' : 'http';
  const httpUrl = `${scheme}://${address.address.includes(':') ? `[${address.address}]` : address.address}:${address.port}`;

  // A proxy in front and the carriers' peers are never limited per source.
  const rateExempt = [...config.sip.rateLimit.exempt, ...trunkSources(config.trunks)];
  const stack = new SipStack({
    listen: config.sip.listen,
    ws: { server, path: config.sip.wsPath, secure: tls !== undefined },
    advertisedHost: config.sip.advertisedHost,
    maxMessageBytes: config.sip.maxMessageBytes,
    tcp: { ...config.sip.tcp, exempt: rateExempt },
    edge: config.sip.edge.trusted,
    timers: { t1: config.sip.t1Ms, t2: config.sip.t2Ms, t4: config.sip.t4Ms },
    userAgent: config.sip.userAgent,
    logger,
  });
  await stack.start();
  hangUpInterrupted(stack, interrupted, logger);
  stack.transport.on('request', (request) => metrics.sipRequests.inc({ method: request.method }));
  stack.transport.on('dropped', () => metrics.sipDropped.inc());
  stack.screen(
    sourceLimit(stack, { ...config.sip.rateLimit, exempt: rateExempt }, () =>
      metrics.sipRateLimited.inc(),
    ),
  );
  // An accepted trunk call runs its DID's flow once telephony is built (below).
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
    now,
  });
  stack.onRegister((request, tx) => registrar.handle(request, tx));
  agents.on('removed', (agentId) => registrar.forget(agentId));

  const callManager = new CallManager({
    stack,
    media,
    agents,
    numbers,
    calls: callStore,
    sessions,
    ...(shared.redis
      ? {
          tenantCalls: {
            claims: shared.tenantCalls,
            max: (tenant: string) => config.tenants[tenant]?.maxConcurrentCalls ?? 0,
            ttlMs: config.shared.leaseSeconds * 1000,
          },
        }
      : {}),
    logger,
    domain: config.sip.domain,
    tenantName: (tenant) => config.tenants[tenant]?.name,
    queue: queueSettings(config.queues),
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
  const telephony = await Telephony.create({
    config,
    db,
    stack,
    agents,
    trunks,
    calls: callManager,
    apps: mediaApps,
    speech,
    metrics,
    logger,
    now,
    tracked: trackedCalls({ hooks: marketplace.hooks, now, logger }),
  });
  // A visitor's call no agent took waits in its queue, or runs the queue's noAnswer flow.
  visitorFallbacks({
    config,
    calls: callManager,
    run: (call, flow) => telephony.runOn(call, flow).done,
    logger,
  });
  const callbacks = createCallbacksModule({
    config,
    db,
    stack,
    trunks,
    media,
    mediaApps,
    tts: speech.tts,
    agents,
    queue: queueSettings(config.queues),
    value,
    marketplace,
    tokens,
    apiKeys: config.api.keys,
    logger,
    now,
  });
  callbacksMount.use(callbacks.router);
  callbacks.start();
  stack.transport.on('flowClosed', (flow) => callManager.flowClosed(flow));
  const hub = new MessageHub({
    store: messageStore,
    logger,
    now,
    onMessage: (from, ok) => metrics.messages.inc({ from, result: ok ? 'stored' : 'refused' }),
  });
  callManager.onCall((call) => hub.attach(call));
  // Visitors of gated tenants: the Gate, the resident's devices, the meter (docs/gated.md).
  const gatedCalls = new GatedCallPath({
    gate: gated.gate,
    meter: gated.meter,
    calls: callManager,
    stack,
    domain: config.sip.domain,
    mediaApps,
    tts: speech.tts,
    settings: (tenant) => config.tenants[tenant]?.gated,
    logger,
  });
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
  const voicemail = wireVoicemail({
    config,
    db,
    stack,
    calls: callManager,
    apps: mediaApps,
    speech,
    agents,
    desk: deskHub,
    apiKeys: config.api.keys,
    logger,
    now,
  });
  voicemailMount.use(voicemail.router);

  server.on('upgrade', (req, socket, head) => {
    const path = new URL(req.url ?? '/', 'http://gateway').pathname;
    if (
      onMessagesUpgrade(req, socket, head) ||
      onDeskUpgrade(req, socket, head) ||
      voicemail.upgrade(req, socket, head)
    )
      return;
    // SIP over WebSocket answers its own path; anything else is refused here.
    if (path !== config.sip.wsPath && !MESSAGES_PATH.test(path) && path !== DESK_EVENTS_PATH) {
      socket.end('HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    }
  });

  // The visitor INVITE: transport → parse → overload → SBC middlewares → call.
  const overload = overloadGuard(config.sip.overload, () => callManager.settingUp);
  stack.onInvite(
    inviteHandler({
      stack,
      pipeline: visitorPipeline({
        tokens,
        realm: config.sip.domain,
        queues: config.queues,
        maxCalls: (tenant) => config.tenants[tenant]?.maxConcurrentCalls ?? 0,
        activeCalls: (tenant) => callManager.activeCount(tenant),
      }),
      overload,
      draining: () => draining,
      // From a carrier (or to a carrier's number): the trunk's way, never the visitor pipeline.
      divert: (invite, tx) => trunks.takeInvite(invite, tx),
      admit: (ctx, cancelled) =>
        gatedCalls.handles(ctx)
          ? gatedCalls.admit(ctx, cancelled)
          : callManager.admit(ctx, cancelled),
      onRefused: (reason) => metrics.invitesRefused.inc({ reason }),
      logger,
    }),
  );

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
  let drained: Promise<void> | undefined;
  const gateway: Gateway = {
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
    gated,
    media,
    mediaApps,
    trunks,
    speech,
    telephony,
    marketplace,
    callbacks,
    voicemails: voicemail.voicemails,
    get draining() {
      return draining;
    },
    drain(timeoutMs = config.drainTimeoutSeconds * 1000) {
      drained ??= (async () => {
        draining = true;
        metrics.draining.set(1);
        stack.drain([reasonHeader('gateway_shutdown'), ['Retry-After', '10']]);
        callManager.refuseNew();
        const inProgress = callManager.size;
        logger.info({ calls: inProgress, timeoutMs }, 'draining: no new calls');
        let timer: NodeJS.Timeout | undefined;
        const timedOut = new Promise<boolean>((resolve) => {
          timer = setTimeout(() => resolve(true), timeoutMs);
        });
        const late = await Promise.race([callManager.idle().then(() => false), timedOut]);
        clearTimeout(timer);
        const cut = callManager.size;
        metrics.drainedCalls.inc({ result: 'finished' }, Math.max(0, inProgress - cut));
        if (cut > 0) metrics.drainedCalls.inc({ result: 'cut' }, cut);
        logger.info(
          { finished: Math.max(0, inProgress - cut), cut, timedOut: late },
          'drained: closing',
        );
        await gateway.close();
      })();
      return drained;
    },
    shared,
    close() {
      closed ??= (async () => {
        closing = true;
        metrics.up.set(0);
        const hadCalls = callManager.size > 0;
        voicemail.close();
        callManager.drain();
        gatedCalls.close();
        gated.close();
        callbacks.close();
        // Let the BYEs and CANCELs of the drain leave before the sockets close.
        await new Promise((resolve) => setTimeout(resolve, hadCalls ? 200 : 20));
        registrar.close();
        trunks.close();
        telephony.close();
        agents.close();
        marketplace.close();
        overload.close();
        await stack.close();
        mediaApps.close();
        await media.close();
        await speech.close();
        await new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        });
        db.close();
        await shared.close();
        logger.info('gateway closed');
      })();
      return closed;
    },
  };
  return gateway;
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
