import { Counter, Histogram, type Registry } from 'prom-client';

/** The gated module's Prometheus metrics, on the gateway's registry. */
export class GatedMetrics {
  readonly decisions: Counter<'tenant' | 'stage' | 'result' | 'failed'>;
  readonly decisionSeconds: Histogram<'stage' | 'decided_by'>;
  readonly pinFailures: Counter<'subject'>;
  readonly pinLockouts: Counter<'subject'>;
  readonly hookFailures: Counter<'tenant' | 'reason'>;
  readonly minutesCharged: Counter<'tenant'>;
  readonly meterEnds: Counter<'tenant' | 'reason'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.decisions = new Counter({
      name: 'parley_gated_decisions_total',
      help: 'Authenticating-server decisions, by stage, result and the check that failed.',
      labelNames: ['tenant', 'stage', 'result', 'failed'],
      registers,
    });
    this.decisionSeconds = new Histogram({
      name: 'parley_gated_decision_seconds',
      help: 'Time to decide, by stage and who decided.',
      labelNames: ['stage', 'decided_by'],
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.05, 0.1, 0.25, 1],
      registers,
    });
    this.pinFailures = new Counter({
      name: 'parley_gated_pin_failures_total',
      help: 'Wrong PINs, by subject kind (device, resident, account).',
      labelNames: ['subject'],
      registers,
    });
    this.pinLockouts = new Counter({
      name: 'parley_gated_pin_lockouts_total',
      help: 'Subjects locked after too many wrong PINs, by kind.',
      labelNames: ['subject'],
      registers,
    });
    this.hookFailures = new Counter({
      name: 'parley_gated_hook_failures_total',
      help: "Failed asks of a facility's authenticating server (timeout, unreachable, status, garbage).",
      labelNames: ['tenant', 'reason'],
      registers,
    });
    this.minutesCharged = new Counter({
      name: 'parley_gated_minutes_charged_total',
      help: 'Call minutes charged to inbound calling accounts.',
      labelNames: ['tenant'],
      registers,
    });
    this.meterEnds = new Counter({
      name: 'parley_gated_meter_ends_total',
      help: 'Metered calls ended, by reason (hangup, balance_exhausted, callee_not_available: a recheck refused, gateway_restart…).',
      labelNames: ['tenant', 'reason'],
      registers,
    });
  }
}
