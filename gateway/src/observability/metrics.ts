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

  readonly speechStreams = new Gauge({
    name: 'parley_speech_streams',
    help: 'Transcription streams open now, by engine.',
    labelNames: ['engine'] as const,
    registers: [this.registry],
  });

  readonly speechPartialDelaySeconds = new Histogram({
    name: 'parley_speech_partial_delay_seconds',
    help: 'From writing the last audio a partial result covers to that partial, by engine.',
    labelNames: ['engine'] as const,
    buckets: [0.02, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1, 2, 5],
    registers: [this.registry],
  });

  readonly speechEngineErrors = new Counter({
    name: 'parley_speech_engine_errors_total',
    help: 'Transcription streams ended by an engine error, by engine and code.',
    labelNames: ['engine', 'code'] as const,
    registers: [this.registry],
  });

  readonly ttsRequests = new Counter({
    name: 'parley_tts_requests_total',
    help: 'Text-to-speech requests, by result (hit: served from the cache, miss: synthesised, error).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly ttsSynthesisSeconds = new Histogram({
    name: 'parley_tts_synthesis_seconds',
    help: 'Time to synthesise one text (cache misses), queueing included.',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
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
