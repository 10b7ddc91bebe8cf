import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * Every Prometheus metric of the gateway, on one registry owned by the process
 * (no global default registry). Modules receive the `Metrics` object and use
 * the fields they need.
 */
export class Metrics {
  readonly registry = new Registry();

  readonly tokensVerified = new Counter({
    name: 'parley_tokens_verified_total',
    help: 'Call tokens verified, by tenant.',
    labelNames: ['tenant'] as const,
    registers: [this.registry],
  });

  readonly tokensRefused = new Counter({
    name: 'parley_tokens_refused_total',
    help: 'Call tokens refused, by reason code.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly tokenVerifySeconds = new Histogram({
    name: 'parley_token_verify_seconds',
    help: 'Time to verify a call token.',
    buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.25],
    registers: [this.registry],
  });

  readonly up = new Gauge({
    name: 'parley_up',
    help: '1 while the gateway serves.',
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    }
  }
}
