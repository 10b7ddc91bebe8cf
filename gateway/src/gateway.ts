import type { ReplayStore } from '@parley/shared/tokens';
import type { CallManager, Telephony } from './calls/index.js';
import {
  createSharedState,
  watchLostGateways,
  type LostGatewaySweeper,
  type SharedState,
} from './cluster/index.js';
import { messagesUpgrade } from './http/messages-ws.js';
import type { Config } from './config/index.js';
import type { MediaEngine } from './media/index.js';
import type { SessionNumberPool } from './numbers/index.js';
import type { MediaApps } from './media/apps/index.js';
import { createLogger, Metrics, registerLiveGauges, type Logger } from './observability/index.js';
import type { AgentDirectory } from './agents/index.js';
import { customerHistory, valueServiceFromConfig } from './routing/index.js';
import type { SipStack } from './sip/index.js';
import type { CallStore, SessionStore } from './storage/index.js';
import { createTokenService, type TokenService } from './tokens/index.js';
import { createGatedModule, type GatedModule, type PinHasher } from './gated/index.js';
import type { Trunks } from './trunks/index.js';
import { createSpeech, type Speech } from './speech/index.js';
import type { Marketplace } from './marketplace/index.js';
import type { CallbacksModule } from './callbacks/index.js';
import { wireVoicemail, type Voicemails } from './voicemail/index.js';
import { startApplications } from './wiring/applications.js';
import { acceptInvites, startCalls } from './wiring/calls.js';
import { closeGateway } from './wiring/close.js';
import { wireDesk } from './wiring/desk.js';
import { agentDirectory, callerNumberPool } from './wiring/directory.js';
import { drainCalls } from './wiring/drain.js';
import { startMarketplace } from './wiring/marketplace.js';
import { routeUpgrades, startHttp } from './wiring/http.js';
import { startMedia } from './wiring/media.js';
import { sipAddresses, startSip } from './wiring/sip.js';
import { openStores } from './wiring/stores.js';

export interface GatewayOptions {
  readonly logger?: Logger;
  readonly replayStore?: ReplayStore;
  readonly now?: () => number;
  /** scrypt parameters of gated PINs (tests lower them). */
  readonly pins?: PinHasher;
  /** For crash tests: runs inside each marketplace charge's transaction, before the commit. */
  readonly billingBeforeCommit?: (callId: string) => void;
  /** For crash tests: runs inside each callback fee's transaction, before the commit. */
  readonly callbackFeeBeforeCommit?: (callbackId: string) => void;
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
  /** Closes dead gateways' calls (with PostgreSQL and Redis shared; else undefined). */
  readonly lostGateways: LostGatewaySweeper | undefined;
  close(): Promise<void>;
}

/**
 * The composition root: builds every module from the config and passes
 * dependencies in (the steps are in `wiring/`). Nothing else creates modules
 * or reads the environment.
 */
export async function startGateway(config: Config, options: GatewayOptions = {}): Promise<Gateway> {
  const logger = options.logger ?? createLogger(config.log.level);
  const now = options.now ?? Date.now;
  const metrics = new Metrics();
  // Redis-backed shared state when shared.redis is set (docs/scaling.md); else all in process.
  const shared = await createSharedState({ config, registry: metrics.registry, logger, now });
  const stores = await openStores(config, logger, now);
  const { db } = stores;
  const speech = createSpeech(config, { logger, metrics });
  const gated = await createGatedModule({
    config,
    db,
    pool: stores.pool,
    registry: metrics.registry,
    logger,
    now,
    ...(options.pins ? { pins: options.pins } : {}),
  });
  const replayStore = options.replayStore ?? shared.replayStore;
  const tokens = await createTokenService({
    config,
    metrics,
    logger,
    ...(replayStore ? { replayStore } : {}),
    now,
  });
  const numbers = await callerNumberPool({
    config,
    store: stores.sessions,
    shared,
    metrics,
    logger,
    now,
  });
  const { agents, admin } = await agentDirectory({
    config,
    store: stores.agents,
    shared,
    logger,
    now,
  });
  const marketplace = await startMarketplace({
    config,
    db,
    agents,
    shared: stores.sharedMoney,
    beforeCommit: options.billingBeforeCommit,
    metrics,
    logger,
    now,
  });
  const value = await valueServiceFromConfig({
    tenants: config.tenants,
    history: customerHistory(stores.calls),
    logger,
    now,
  });
  const { media, mediaApps } = await startMedia(config, metrics, logger);

  // HTTP first: SIP over WebSocket shares its server.
  let closing = false;
  let draining = false;
  const live: { calls?: CallManager } = {};
  const http = await startHttp({
    config,
    tokens,
    metrics,
    logger,
    // Draining answers 503 too: a load balancer's health check stops sending browsers here.
    health: () => ({
      ok: !closing && !draining,
      draining,
      calls: live.calls?.size ?? 0,
      ...shared.health(),
    }),
    marketplace,
    v1: {
      agents,
      admin,
      calls: stores.calls,
      sessions: stores.sessions,
      numbers,
      messages: stores.messages,
      flowEvents: (id) => stores.flowEvents.list(id),
      live: (id) => live.calls?.get(id)?.record,
      gated: gated.adminRouter,
      attribution: (ids) => marketplace.attributions(ids),
    },
    resident: gated.deviceRouter,
  });
  const { stack, trunks, registrar } = await startSip({
    config,
    server: http.server,
    agents,
    gated,
    interrupted: stores.interrupted,
    metrics,
    logger,
    now,
  });
  const { manager: callManager, hub } = startCalls({
    config,
    stack,
    media,
    agents,
    numbers,
    calls: stores.calls,
    sessions: stores.sessions,
    messages: stores.messages,
    shared,
    value,
    trunks,
    metrics,
    logger,
    now,
  });
  live.calls = callManager;
  const { telephony, callbacks, gatedCalls, listingCalls } = await startApplications({
    config,
    db,
    flowEvents: stores.flowEvents,
    stack,
    trunks,
    agents,
    calls: callManager,
    media,
    mediaApps,
    speech,
    gated,
    marketplace,
    value,
    tokens,
    shared,
    callbacksMount: http.late.callbacks,
    callbackFeeBeforeCommit: options.callbackFeeBeforeCommit,
    metrics,
    logger,
    now,
  });
  const desk = wireDesk({
    config,
    mount: http.late.desk,
    agents,
    calls: callManager,
    store: stores.calls,
    webSessions: stores.sessions,
    messages: hub,
    flowEvents: (call) => telephony.flowEventsOf(call),
    flows: telephony,
    callbacks,
    logger,
    now,
    fanout: shared.deskFanout,
  });
  const voicemail = await wireVoicemail({
    config,
    db,
    pool: stores.pool,
    instanceId: config.shared.instanceId ?? config.gatewayId,
    alive: shared.presence?.alive.bind(shared.presence),
    messages: stores.messages,
    hub,
    stack,
    calls: callManager,
    apps: mediaApps,
    speech,
    agents,
    desk: desk.hub,
    deskSessions: desk.sessions,
    apiKeys: config.api.keys,
    httpUrl: config.http.publicUrl ?? http.url,
    logger,
    metrics,
    now,
  });
  telephony.setVoicemail(voicemail.flowVoicemail);
  // With PostgreSQL and Redis shared: this gateway closes a dead one's calls and their records:
  // marketplace calls (closed, charged once if they qualified), voicemails (ended `gateway_lost`).
  const lostGateways = watchLostGateways({
    shared,
    records: stores.shared,
    stack,
    heartbeatSeconds: config.shared.heartbeatSeconds,
    logger,
    now,
    modules: [marketplace.lost, voicemail.lost],
  });
  http.late.voicemail.use(voicemail.router);
  http.late.desk.use(voicemail.deskRouter);
  routeUpgrades(http.server, config.sip.wsPath, [
    messagesUpgrade({ apiKeys: config.api.keys, calls: callManager, store: stores.calls, hub }),
    desk.upgrade,
    voicemail.upgrade,
  ]);
  const overload = acceptInvites({
    config,
    stack,
    tokens,
    calls: callManager,
    trunks,
    gatedCalls,
    listingCalls,
    marketplace,
    draining: () => draining,
    metrics,
    logger,
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
  const httpUrl = http.url;
  const sip = sipAddresses(stack, httpUrl, config.sip.wsPath);
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
    callStore: stores.calls,
    sessions: stores.sessions,
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
        await drainCalls({ stack, calls: callManager, metrics, logger }, timeoutMs);
        await gateway.close();
      })();
      return drained;
    },
    shared,
    lostGateways,
    close() {
      closed ??= (async () => {
        closing = true;
        await closeGateway({
          metrics,
          logger,
          calls: callManager,
          voicemail,
          desk,
          gatedCalls,
          gated,
          callbacks,
          lostGateways,
          registrar,
          trunks,
          telephony,
          agents,
          marketplace,
          overload,
          stack,
          mediaApps,
          media,
          speech,
          server: http.server,
          stores,
          shared,
        });
      })();
      return closed;
    },
  };
  return gateway;
}
