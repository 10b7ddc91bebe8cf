/** Queue and flow figures for Prometheus (`observability/metrics.ts`), fed from the modules' events. */
import type { FlowEvent } from '@parley/shared/protocol';
import type { FlowEventSink } from '../flows/events.js';
import type { Metrics } from '../observability/index.js';
import type { QueueService } from './queue-service.js';

/** Counts queue joins, waits and decisions. Returns the unsubscribe. */
export function observeQueues(service: QueueService, metrics: Metrics): () => void {
  const onWaiting = (queue: string, waiting: readonly unknown[]): void =>
    void metrics.queueWaiting.set({ queue }, waiting.length);
  const onLeft = (queue: string, status: string, waitedMs: number): void => {
    metrics.queueLeft.inc({ queue, status });
    metrics.queueWaitSeconds.observe({ queue }, waitedMs / 1000);
  };
  const onOffered = (_entry: unknown, _agent: string, decisionMs: number): void =>
    metrics.queueDecisionSeconds.observe(decisionMs / 1000);
  service.on('waiting', onWaiting);
  service.on('left', onLeft);
  service.on('offered', onOffered);
  return () => {
    service.off('waiting', onWaiting);
    service.off('left', onLeft);
    service.off('offered', onOffered);
  };
}

/** A flow event sink that counts verbs and source failures. */
export function flowMetricsSink(metrics: Metrics): FlowEventSink {
  return {
    event(event: FlowEvent): void {
      if (event.type === 'verb.result')
        metrics.flowVerbs.inc({ verb: event.verb, outcome: event.result.status });
      else if (event.type === 'verb.error')
        metrics.flowVerbs.inc({ verb: event.verb, outcome: 'error' });
      else if (event.type === 'source.error')
        metrics.flowSourceErrors.inc({ source: event.source, reason: event.reason });
    },
  };
}
