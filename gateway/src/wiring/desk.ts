import type { Router } from 'express';
import type { AgentDirectory } from '../agents/index.js';
import type { CallManager, MessageHub } from '../calls/index.js';
import type { Config } from '../config/index.js';
import type { FlowEventsOf } from '../desk/call-context.js';
import type { CallbackDeskFeed } from '../callbacks/runner.js';
import {
  DeskCallbackFeed,
  DeskFlowFeed,
  DeskHub,
  DeskSessions,
  deskEventsUpgrade,
  deskRouter,
} from '../desk/index.js';
import type { DeskFanout } from '../desk/desk-fanout.js';
import type { FlowEventSink } from '../flows/index.js';
import { QueueDeskFeed, type QueueService } from '../queues/index.js';
import type { Logger } from '../observability/index.js';
import type { CallStore, SessionStore } from '../storage/index.js';
import { assetsDir, type UpgradeHandler } from './http.js';

/**
 * The agents' desk: sign-in sessions, its pages and API on `mount`, its live
 * events socket, and what goes to it live from the flows and the callbacks.
 */
export function wireDesk(deps: {
  readonly config: Config;
  readonly mount: Router;
  readonly agents: AgentDirectory;
  readonly calls: CallManager;
  readonly store: CallStore;
  readonly webSessions: SessionStore;
  readonly messages: MessageHub;
  /** The stored flow events of a call (what its flow did before the agent). */
  readonly flowEvents: FlowEventsOf;
  /** Where flow events are raised (telephony): the desks get them live. */
  readonly flows: { addSink(sink: FlowEventSink): () => void; readonly queues: QueueService };
  /** The callbacks module: the desks of a callback's destination follow it live. */
  readonly callbacks: { setDesk(feed: CallbackDeskFeed | undefined): void };
  readonly logger: Logger;
  readonly now: () => number;
  /** The cluster's desk fan-out (with Redis). */
  readonly fanout?: DeskFanout | undefined;
}): {
  readonly hub: DeskHub;
  readonly sessions: DeskSessions;
  readonly upgrade: UpgradeHandler;
  /** Stops the queues' desk feed (its timers). */
  close(): void;
} {
  const { config, agents } = deps;
  const sessions = new DeskSessions({
    secret: config.desk.sessionSecret,
    now: deps.now,
    agent: (agentId) => {
      const presence = agents.get(agentId);
      const stamp = agents.credentialStamp(agentId);
      return presence && stamp ? { tenant: presence.tenant, stamp } : undefined;
    },
  });
  const hub = new DeskHub({
    calls: deps.calls,
    store: deps.store,
    messages: deps.messages,
    agents,
    logger: deps.logger,
    flowEvents: deps.flowEvents,
    ...(deps.fanout ? { fanout: deps.fanout } : {}),
  });
  const flows = new DeskFlowFeed({ desk: hub, calls: deps.calls, agents });
  deps.flows.addSink(flows);
  const callbacks = new DeskCallbackFeed({ desk: hub, agents, now: deps.now });
  deps.callbacks.setDesk(callbacks);
  // Who waits in each queue, to the desks of its agents (at most four frames a second a queue).
  const queueAgents = (queue: string) =>
    agents
      .list()
      .filter((a) => a.queues.includes(queue))
      .map((a) => a.id);
  const queues = new QueueDeskFeed(deps.flows.queues, (queue, event) => {
    for (const agentId of queueAgents(queue)) hub.notify(agentId, event);
  });
  // A desk that connects (or reconnects) catches up on its queues, flows and callbacks.
  hub.onConnectReplay((agentId) => [
    ...(agents.get(agentId)?.queues ?? []).flatMap((queue) => {
      const view = queues.view(queue);
      return view ? [{ type: 'queue' as const, queue: view }] : [];
    }),
    ...flows.replay(agentId),
    ...callbacks.replay(agentId),
  ]);
  deps.mount.use(
    deskRouter({
      sessions,
      agents,
      calls: deps.calls,
      store: deps.store,
      webSessions: deps.webSessions,
      messages: deps.messages,
      flowEvents: deps.flowEvents,
      sipDomain: config.sip.domain,
      sipWsPath: config.sip.wsPath,
      assetsDir: assetsDir(config),
    }),
  );
  return {
    hub,
    sessions,
    upgrade: deskEventsUpgrade({ sessions, hub }),
    close: () => queues.close(),
  };
}
