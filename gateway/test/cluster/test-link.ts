import { pino } from 'pino';
import { Registry } from 'prom-client';
import { ClusterMetrics } from '../../src/cluster/metrics.js';
import { RedisLink } from '../../src/cluster/redis-link.js';

/** A gateway's Redis link as the cluster tests make it: silent logs, its own metrics. */
export function testRedisLink(url: string, keyPrefix: string, commandTimeoutMs = 500): RedisLink {
  return new RedisLink(
    { url, keyPrefix, commandTimeoutMs, connectTimeoutMs: 2000 },
    { logger: pino({ level: 'silent' }), metrics: new ClusterMetrics(new Registry()) },
  );
}
