import type { Metrics } from '../observability/index.js';

/** The metrics the speech module writes (a gateway passes its `Metrics`). */
export type SpeechMetrics = Pick<
  Metrics,
  | 'speechStreams'
  | 'speechPartialDelaySeconds'
  | 'speechEngineErrors'
  | 'ttsRequests'
  | 'ttsSynthesisSeconds'
>;
