import { Counter, Gauge, type Registry } from 'prom-client';

/** The shared stores' health, on the gateway's registry (docs/scaling.md, "Redis down"). */
export class ClusterMetrics {
  /** 1 while the Redis connection is ready, 0 while it is down (absent without Redis). */
  readonly redisUp: Gauge;
  /** Redis operations that failed or timed out, by operation: the gateway went on without them. */
  readonly redisErrors: Counter<'op'>;
  /** Redis commands sent, by operation (the per-call load of docs/scaling.md). */
  readonly redisOps: Counter<'op'>;
  /** Writes tried again after a failure while the link stayed up (`retries.ts`), by store. */
  readonly redisRetries: Counter<'store'>;
  /** What each store holds unwritten now (its items waiting for a retry), by store. */
  readonly redisUnwritten: Gauge<'store'>;
  /** Calls of gateways whose lease expired, closed by this one. */
  readonly lostCallsClosed: Counter;

  constructor(registry: Registry) {
    const registers = [registry];
    this.redisUp = new Gauge({
      name: 'parley_shared_redis_up',
      help: '1 while the shared Redis is reachable, 0 while it is down.',
      registers,
    });
    this.redisErrors = new Counter({
      name: 'parley_shared_redis_errors_total',
      help: 'Redis operations that failed or timed out (the gateway went on without them), by operation.',
      labelNames: ['op'] as const,
      registers,
    });
    this.redisOps = new Counter({
      name: 'parley_shared_redis_ops_total',
      help: 'Redis commands sent, by operation.',
      labelNames: ['op'] as const,
      registers,
    });
    this.redisRetries = new Counter({
      name: 'parley_shared_redis_retries_total',
      help: 'Redis writes tried again after a failure (a command error, a timeout), by store.',
      labelNames: ['store'] as const,
      registers,
    });
    this.redisUnwritten = new Gauge({
      name: 'parley_shared_redis_unwritten',
      help: 'Items whose Redis write failed and waits for a retry, by store.',
      labelNames: ['store'] as const,
      registers,
    });
    this.lostCallsClosed = new Counter({
      name: 'parley_calls_lost_closed_total',
      help: 'Open calls of gateways whose lease expired, closed by this gateway (gateway_lost).',
      registers,
    });
  }
}
