/**
 * @parley/testkit: real peers for tests and benchmarks (baresip agents, sipp,
 * audio checks with sox/flite/pocketsphinx, Debian's Chromium), ports that
 * never collide, and processes that never outlive the test.
 *
 * Chromium lives in `@parley/testkit/chromium` (not re-exported here) so
 * that SIP-only tests do not load playwright-core.
 */
export { TestkitError, type TestkitErrorCode } from './testkit-error.js';
export { reportFailure } from './failure-report.js';
export {
  probeTurn,
  startCoturn,
  type Coturn,
  type CoturnOptions,
  type TurnProbeResult,
} from './coturn.js';
export {
  PortAllocator,
  defaultPortAllocator,
  freePort,
  type AllocateOptions,
  type PortAllocatorOptions,
  type PortBlock,
  type PortProtocol,
} from './ports.js';
export {
  liveProcesses,
  runCommand,
  spawnManaged,
  stopAll,
  type ExitInfo,
  type ManagedProcess,
  type ManagedProcessOptions,
  type OutputStream,
  type StopOptions,
} from './process.js';
export {
  analyse,
  analyseTail,
  audioCacheDir,
  wavSeconds,
  cachedTone,
  isSilent,
  loopAudio,
  makeTone,
  parseSoxStat,
  speak,
  transcribe,
  trimSilence,
  wordsFound,
  type AudioAnalysis,
  type LoopOptions,
  type SampleEncoding,
  type SpeakOptions,
  type ToneOptions,
  type TranscribeOptions,
} from './audio.js';
export { distinctTransactions, parseSipMessage, type SipMessage } from './sip-message.js';
export {
  startBaresipAgent,
  type BaresipAgent,
  type BaresipAgentEvents,
  type BaresipAgentOptions,
  type BaresipEvent,
  type BaresipEventType,
  type BaresipRecording,
  type BaresipResponse,
  type SipTransport,
  type WaitOptions,
} from './baresip.js';
export { BaresipControl, decodeNetstrings, encodeNetstring } from './baresip-ctrl.js';
export { BaresipSipTraceParser } from './baresip-sip-trace.js';
export {
  runSipp,
  sippAvailable,
  startSipp,
  type SippInjection,
  type SippInstance,
  type SippOptions,
  type SippResult,
  type SippRttSample,
  type SippScenario,
  type SippStats,
} from './sipp.js';
export { emptySippStats, parseSippDuration, parseSippRtt, parseSippStats } from './sipp-stats.js';
export {
  SCENARIO_DIR,
  TONE_PCMU_NAME,
  bundledScenario,
  type BundledScenarioName,
  type ScenarioFile,
} from './scenarios.js';
export {
  KAMAILIO_CONFIG,
  parseDispatcherList,
  startKamailio,
  type Kamailio,
  type KamailioOptions,
} from './kamailio.js';
export { postgresBinDir, startPostgres, type Postgres, type PostgresOptions } from './postgres.js';
export { startRedis, type RedisOptions, type RedisServer } from './redis.js';
export { until } from './until.js';
export {
  spawnGateway,
  type GatewayProcess,
  type GatewayProcessOptions,
} from './gateway-process.js';
