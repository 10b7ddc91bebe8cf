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

  readonly sipRequests = new Counter({
    name: 'parley_sip_requests_total',
    help: 'SIP requests received, by method.',
    labelNames: ['method'] as const,
    registers: [this.registry],
  });

  readonly sipDropped = new Counter({
    name: 'parley_sip_dropped_total',
    help: 'SIP messages dropped or refused at the transport (unparseable, too large).',
    registers: [this.registry],
  });

  readonly sipRateLimited = new Counter({
    name: 'parley_sip_rate_limited_total',
    help: 'SIP requests refused by the per-source rate limit.',
    registers: [this.registry],
  });

  readonly invitesRefused = new Counter({
    name: 'parley_invites_refused_total',
    help: 'Visitor INVITEs refused by the SBC, by reason code.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly calls = new Counter({
    name: 'parley_calls_total',
    help: 'Calls ended, by outcome.',
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly callSetupSeconds = new Histogram({
    name: 'parley_call_setup_seconds',
    help: 'From the visitor INVITE to the answer sent back.',
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  readonly numbersExhausted = new Counter({
    name: 'parley_session_numbers_exhausted_total',
    help: 'Calls that got the fallback caller-ID number because the pool was exhausted.',
    registers: [this.registry],
  });

  readonly messages = new Counter({
    name: 'parley_messages_total',
    help: 'Data-channel messages, by sender and result (stored, refused).',
    labelNames: ['from', 'result'] as const,
    registers: [this.registry],
  });

  readonly mediaPlayers = new Gauge({
    name: 'parley_media_players',
    help: 'Media application players playing now (prompts, music on hold, beeps).',
    registers: [this.registry],
  });

  readonly mediaRecorders = new Gauge({
    name: 'parley_media_recorders',
    help: 'Media application recorders recording now.',
    registers: [this.registry],
  });

  readonly mediaFeeds = new Gauge({
    name: 'parley_media_feeds',
    help: 'Transcriber PCM feeds open now.',
    registers: [this.registry],
  });

  readonly mediaLateFrames = new Counter({
    name: 'parley_media_pacer_late_frames_total',
    help: 'Pacer ticks (20 ms frames of every player and recorder) that ran 20 ms or more late.',
    registers: [this.registry],
  });

  readonly mediaSkippedFrames = new Counter({
    name: 'parley_media_pacer_skipped_frames_total',
    help: 'Pacer ticks skipped after the event loop stalled for more than 100 ms.',
    registers: [this.registry],
  });

  readonly mediaAppErrors = new Counter({
    name: 'parley_media_app_errors_total',
    help: 'Media applications ended by an error, by kind (player: unreadable source; recorder: unwritable file).',
    labelNames: ['kind'] as const,
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
