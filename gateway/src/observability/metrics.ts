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

  readonly registrarAuthFailures = new Counter({
    name: 'parley_registrar_auth_failures_total',
    help: 'REGISTER digest authentications refused, by reason (credentials, backoff, locked, replay).',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly registrarLockouts = new Counter({
    name: 'parley_registrar_lockouts_total',
    help: 'Accounts locked by the registrar after repeated failed authentications.',
    registers: [this.registry],
  });

  readonly invitesRefused = new Counter({
    name: 'parley_invites_refused_total',
    help: 'Visitor INVITEs refused by the SBC, by reason code.',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly visitorReconnects = new Counter({
    name: 'parley_visitor_reconnects_total',
    help: "Browser visitors' connections lost mid-call, by what followed: waiting, rebound, refused (a wrong rebind key), expired (not back within visitors.reconnectGraceSeconds).",
    labelNames: ['outcome'] as const,
    registers: [this.registry],
  });

  readonly visitorReconnectGapSeconds = new Histogram({
    name: 'parley_visitor_reconnect_gap_seconds',
    help: "From a browser visitor's connection closing to its call rebound over the new one.",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers: [this.registry],
  });

  readonly iceRestarts = new Counter({
    name: 'parley_ice_restarts_total',
    help: "Browser visitors' ICE restarts (a re-INVITE after a network change), by result (answered, refused).",
    labelNames: ['result'] as const,
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

  readonly callerNumberClaims = new Counter({
    name: 'parley_caller_number_claims_total',
    help: "Call tokens' callerNumber claims (S6), by result (accepted, refused) and refusal reason.",
    labelNames: ['result', 'reason'] as const,
    registers: [this.registry],
  });

  readonly trunkCalls = new Counter({
    name: 'parley_trunk_calls_total',
    help: 'Calls through trunks: inbound ones accepted, outbound ones dialled; by trunk and direction.',
    labelNames: ['trunk', 'direction'] as const,
    registers: [this.registry],
  });

  readonly trunkRefused = new Counter({
    name: 'parley_trunk_refused_total',
    help: 'Inbound trunk INVITEs refused, by trunk ("-" when none matched) and reason code.',
    labelNames: ['trunk', 'reason'] as const,
    registers: [this.registry],
  });

  readonly trunkDialOutcomes = new Counter({
    name: 'parley_trunk_dial_outcomes_total',
    help: 'Outbound trunk calls ended setting up, by trunk and outcome (answered, busy, no_answer, …).',
    labelNames: ['trunk', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly trunkChallenges = new Counter({
    name: 'parley_trunk_auth_challenges_total',
    help: 'Digest challenges (401, 407) to outbound trunk INVITEs, by trunk, status and whether they were answered.',
    labelNames: ['trunk', 'status', 'answered'] as const,
    registers: [this.registry],
  });

  readonly trunkActiveCalls = new Gauge({
    name: 'parley_trunk_calls_active',
    help: 'Calls holding a slot of the trunk (inbound and outbound), by trunk.',
    labelNames: ['trunk'] as const,
    registers: [this.registry],
  });

  readonly trunkPeerUp = new Gauge({
    name: 'parley_trunk_peer_up',
    help: '1 while the trunk peer answers its OPTIONS keep-alive, 0 while it is marked down.',
    labelNames: ['trunk', 'peer'] as const,
    registers: [this.registry],
  });

  readonly trunkOptionsRttSeconds = new Histogram({
    name: 'parley_trunk_options_rtt_seconds',
    help: 'OPTIONS keep-alive round trip to each trunk peer.',
    labelNames: ['trunk', 'peer'] as const,
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2],
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

  readonly flowVerbs = new Counter({
    name: 'parley_flow_verbs_total',
    help: 'Flow verbs run, by verb and outcome (the result status, or error).',
    labelNames: ['verb', 'outcome'] as const,
    registers: [this.registry],
  });

  readonly flowSourceErrors = new Counter({
    name: 'parley_flow_source_errors_total',
    help: 'Webhook or module flows that gave no usable verbs (the fallback ran), by reason.',
    labelNames: ['source', 'reason'] as const,
    registers: [this.registry],
  });

  readonly queueWaiting = new Gauge({
    name: 'parley_queue_waiting',
    help: 'Callers waiting in each queue (not counting those being offered to an agent).',
    labelNames: ['queue'] as const,
    registers: [this.registry],
  });

  readonly queueLeft = new Counter({
    name: 'parley_queue_left_total',
    help: 'Callers out of a queue, by queue and how (bridged, timeout, hangup, failed).',
    labelNames: ['queue', 'status'] as const,
    registers: [this.registry],
  });

  readonly queueWaitSeconds = new Histogram({
    name: 'parley_queue_wait_seconds',
    help: 'How long callers waited in a queue before they left it (any way).',
    labelNames: ['queue'] as const,
    buckets: [1, 5, 15, 30, 60, 120, 300, 600, 1200, 3600],
    registers: [this.registry],
  });

  readonly queueDecisionSeconds = new Histogram({
    name: 'parley_queue_decision_seconds',
    help: 'From the change that freed an agent (or a join) to the caller offered to it.',
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5],
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

  readonly voicemailTombstonedFilesRemoved = new Counter({
    name: 'parley_voicemail_tombstoned_files_removed_total',
    help: "Voicemail WAVs removed from this gateway's disk because another gateway deleted their rows while this one was retired (their tombstones).",
    registers: [this.registry],
  });

  readonly up = new Gauge({
    name: 'parley_up',
    help: '1 while the gateway serves.',
    registers: [this.registry],
  });

  readonly draining = new Gauge({
    name: 'parley_draining',
    help: '1 while the gateway drains (SIGTERM): no new calls, those in progress finishing.',
    registers: [this.registry],
  });

  readonly drainedCalls = new Counter({
    name: 'parley_drain_calls_total',
    help: 'Calls in progress when a drain began, by how they ended: finished (within drainTimeoutSeconds) or cut (ended with gateway_shutdown).',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false) {
      collectDefaultMetrics({ register: this.registry, prefix: 'parley_' });
    }
  }
}
