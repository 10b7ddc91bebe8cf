import { Counter, Histogram, type Registry } from 'prom-client';
import type { AttemptResult } from './call/callback-call.js';

/**
 * The callbacks' Prometheus metrics, on the gateway's registry: attempts by
 * outcome (what an operator alerts on: declines, busy numbers, failures) and
 * the two waits the customer feels (request → their phone ringing, "1" → the
 * advertiser's phone ringing), fed by the runner's `onAttempt` / `onTimings`.
 */
export class CallbackMetrics {
  readonly attempts: Counter<'outcome' | 'code'>;
  readonly ringingSeconds: Histogram<'leg'>;
  readonly storeFailures: Counter<'step'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.attempts = new Counter({
      name: 'parley_callback_attempts_total',
      help: 'Callback attempts that ended, by outcome (connected, busy, no_answer, declined…) and registry code.',
      labelNames: ['outcome', 'code'],
      registers,
    });
    this.ringingSeconds = new Histogram({
      name: 'parley_callback_ringing_seconds',
      help: "Request (or retry) → the customer's phone ringing (leg=customer); the customer's key → the advertiser's phone ringing (leg=advertiser).",
      labelNames: ['leg'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5, 10, 20, 30],
      registers,
    });
    this.storeFailures = new Counter({
      name: 'parley_callback_store_failures_total',
      help: 'Callback store failures: a run that failed at its time (step=run, tried again later), an expiry that failed (step=expire, tried again later), a record write given up after its tries (step=write).',
      labelNames: ['step'],
      registers,
    });
  }

  attempt(result: AttemptResult): void {
    this.attempts.inc({ outcome: result.outcome, code: result.code ?? '' });
  }

  timing(name: 'customer_ringing' | 'advertiser_ringing', seconds: number): void {
    this.ringingSeconds.observe(
      { leg: name === 'customer_ringing' ? 'customer' : 'advertiser' },
      seconds,
    );
  }
}
