import type { Registry } from 'prom-client';
import type { ReplayStore } from '@parley/shared/tokens';
import {
  LOCAL_SLOT_CLAIMS,
  type AgentDirectory,
  type AgentLocks,
  type SlotClaims,
} from '../agents/index.js';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import { RedisAgentCalls } from './agent-calls.js';
import { RedisAgentSync } from './agent-sync.js';
import { RedisDevicePresence } from './device-sync.js';
import type { DevicePresence } from '../gated/devices/device-presence.js';
import { ClaimLapses } from './claim-lapses.js';
import { ClusterMetrics } from './metrics.js';
import { RedisNumberLeases } from './number-leases.js';
import { GatewayPresence } from './presence.js';
import type { SharedNumberLeases } from '../numbers/index.js';
import { RedisLink } from './redis-link.js';
import { RedisDeskFanout } from './desk-fanout.js';
import type { DeskFanout } from '../desk/desk-fanout.js';
import { RedisReplayStore } from './replay-store.js';
import { RedisSlotClaims } from './slot-claims.js';
import type { QueueChanges, QueueState } from '../queues/index.js';
import { RedisQueueChanges } from './queue-changes.js';
import { RedisQueueState } from './redis-queue-state.js';

/**
 * The state several gateways share, chosen by the config: with
 * `shared.redis.url`, Redis-backed stores; without, nothing here (every module
 * keeps its in-process default). Owned by the gateway; `close()` is safe twice.
 */
export interface SharedState {
  /** This process's id among the cluster's gateways (`shared.instanceId`, default `gatewayId`). */
  readonly instanceId: string;
  /** The Redis connection, when configured. */
  readonly redis: RedisLink | undefined;
  /** The token replay store, when shared (else the token service's in-memory one). */
  readonly replayStore: ReplayStore | undefined;
  /** Claims on agents' call slots across the cluster (none with one gateway). */
  readonly agentLocks: AgentLocks;
  /** Claims on tenants' concurrent calls (`maxConcurrentCalls`) across the cluster. */
  readonly tenantCalls: SlotClaims;
  /**
   * Shares the agents' registrations, availability and calls (ringing,
   * answered) with the other gateways (with Redis; else nothing). Resolves
   * once the others' state is read.
   */
  syncAgents(agents: AgentDirectory): Promise<void>;
  /**
   * Queue membership shared by the gateways (with Redis; else undefined: the
   * queue service keeps it in memory): the state and the change notices.
   * `maxCalls`: an agent's call slots, which a queue offer must find free.
   */
  /**
   * Gated residents' device presence (registrations, app sign-ins) shared
   * with the other gateways (with Redis and a gated tenant; else undefined:
   * the gated module keeps it in memory). Resolves once the others' state is read.
   */
  shareDevices(): Promise<DevicePresence | undefined>;
  shareQueues(deps: {
    queues: readonly string[];
    maxCalls: (agentId: string) => number;
  }): Promise<{ readonly state: QueueState; readonly changes: QueueChanges } | undefined>;
  readonly metrics: ClusterMetrics;
  /** Who holds which caller-ID number, agreed between the gateways (with Redis). */
  readonly numberLeases: SharedNumberLeases | undefined;
  /** This gateway's lease in Redis, and whether another gateway holds its own (with Redis). */
  readonly presence: GatewayPresence | undefined;
  /** Desk events between the gateways (with Redis): a desk sees its agent's calls on every gateway. */
  readonly deskFanout: DeskFanout | undefined;
  /** For /healthz: `up`, `down`, or `none` (no Redis configured). */
  health(): { redis: 'up' | 'down' | 'none' };
  close(): Promise<void>;
}

export async function createSharedState(deps: {
  config: Config;
  registry: Registry;
  logger: Logger;
  now: () => number;
}): Promise<SharedState> {
  const { config, logger, now } = deps;
  const metrics = new ClusterMetrics(deps.registry);
  const instanceId = config.shared.instanceId ?? config.gatewayId;
  const settings = config.shared.redis;
  const redis = settings
    ? new RedisLink(
        {
          url: settings.url,
          keyPrefix: settings.keyPrefix,
          commandTimeoutMs: settings.commandTimeoutMs,
          connectTimeoutMs: settings.connectTimeoutMs,
        },
        { logger, metrics },
      )
    : undefined;
  await redis?.start();
  const presence = redis
    ? new GatewayPresence(redis, {
        instanceId,
        heartbeatSeconds: config.shared.heartbeatSeconds,
        leaseSeconds: config.shared.leaseSeconds,
      })
    : undefined;
  // Before any call: a survivor must never take this gateway's calls for a dead one's.
  await presence?.beat();
  const claims = (namespace: string) =>
    redis
      ? new RedisSlotClaims(redis, {
          namespace,
          instanceId,
          heartbeatSeconds: config.shared.heartbeatSeconds,
          leaseSeconds: config.shared.leaseSeconds,
        })
      : undefined;
  const numberLeases = redis
    ? new RedisNumberLeases(redis, {
        heartbeatSeconds: config.shared.heartbeatSeconds,
        leaseSeconds: config.shared.leaseSeconds,
      })
    : undefined;
  const deskFanout = redis ? new RedisDeskFanout({ redis, instanceId, logger }) : undefined;
  await deskFanout?.start();
  const agentLocks = claims('agent-slots');
  const tenantCalls = claims('tenant-calls');
  let agentSync: RedisAgentSync | undefined;
  let devices: RedisDevicePresence | undefined;
  let agentCalls: RedisAgentCalls | undefined;
  let queueState: RedisQueueState | undefined;
  let claimLapses: ClaimLapses | undefined;
  let queueChanges: RedisQueueChanges | undefined;
  let closed = false;
  return {
    instanceId,
    redis,
    replayStore: redis ? new RedisReplayStore(redis, now) : undefined,
    agentLocks: agentLocks ?? LOCAL_SLOT_CLAIMS,
    tenantCalls: tenantCalls ?? LOCAL_SLOT_CLAIMS,
    async syncAgents(agents) {
      if (!redis || agentSync) return;
      agentSync = new RedisAgentSync({ redis, agents, instanceId, logger });
      agentCalls = new RedisAgentCalls({
        redis,
        agents,
        instanceId,
        logger,
        heartbeatSeconds: config.shared.heartbeatSeconds,
        leaseSeconds: config.shared.leaseSeconds,
      });
      await Promise.all([agentSync.start(), agentCalls.start()]);
    },
    async shareDevices() {
      // A gateway with no gated tenant has no device to share (and needs no subscription).
      if (!redis || !Object.values(config.tenants).some((t) => t.gated)) return undefined;
      if (!devices) {
        devices = new RedisDevicePresence({ redis, instanceId, logger, now });
        await devices.start();
      }
      return devices;
    },
    async shareQueues({ queues, maxCalls }) {
      if (!redis) return undefined;
      const changes = new RedisQueueChanges({ redis, instanceId, logger, queues });
      await changes.start();
      queueChanges?.close();
      queueChanges = changes;
      queueState?.close();
      claimLapses?.close();
      // An agent's slot claim that lapses (its gateway died) is told as a release would be.
      const lapses = new ClaimLapses({ announce: (queue) => changes.announce(queue) });
      claimLapses = lapses;
      queueState = new RedisQueueState(redis, {
        instanceId,
        queues,
        maxCalls,
        heartbeatSeconds: config.shared.heartbeatSeconds,
        purged: (queue) => changes.announce(queue),
        slotsHeld: (queue, ms) => lapses.heldFor(queue, ms),
      });
      // A restart under the same instance id: the callers of before are gone with their legs.
      for (const queue of await queueState.forgetOwn()) changes.publish(queue);
      return { state: queueState, changes };
    },
    metrics,
    numberLeases,
    presence,
    deskFanout,
    health: () => ({ redis: redis ? (redis.up ? 'up' : 'down') : 'none' }),
    async close() {
      if (closed) return;
      closed = true;
      agentSync?.close();
      devices?.close();
      agentCalls?.close();
      queueState?.close();
      queueChanges?.close();
      claimLapses?.close();
      agentLocks?.close();
      tenantCalls?.close();
      numberLeases?.close();
      await presence?.close();
      await redis?.close();
    },
  };
}
