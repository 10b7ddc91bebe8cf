import type { CallManager } from './calls/index.js';
import { createSharedState, watchLostGateways } from './cluster/index.js';
import { messagesUpgrade } from './http/messages-ws.js';
import type { Config } from './config/index.js';
import { createLogger, Metrics, registerLiveGauges } from './observability/index.js';
import { customerHistory, valueServiceFromConfig } from './routing/index.js';
import { createTokenService } from './tokens/index.js';
import { createGatedModule } from './gated/index.js';
import { createSpeech } from './speech/index.js';
import { wireVoicemail } from './voicemail/index.js';
import type { Gateway, GatewayOptions } from './gateway-api.js';
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

export type { Gateway, GatewayOptions } from './gateway-api.js';

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
    presence: await shared.shareDevices(),
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
    pool: stores.pool,
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
    leaseSeconds: config.shared.leaseSeconds,
    logger,
    now,
    modules: [
      marketplace.lost,
      voicemail.lost,
      gated.lost,
      ...(callbacks.lost ? [callbacks.lost] : []),
    ],
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
