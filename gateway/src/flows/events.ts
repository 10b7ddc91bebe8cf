/**
 * Where flow events go: the call record (`FlowEventStore`), the desk (the
 * lead's desk adapter) and anything else that listens; a webhook flow's
 * status callbacks are sent by the runner itself. Sinks must not throw or
 * block: the runner calls them inline, between verbs.
 */
import type { FlowEvent } from '@parley/shared/protocol';

export interface FlowEventSink {
  event(event: FlowEvent): void;
}

/** One sink that hands each event to several; one that throws does not stop the others. */
export function fanOut(
  sinks: readonly FlowEventSink[],
  onError?: (error: unknown) => void,
): FlowEventSink {
  return {
    event(event) {
      for (const sink of sinks) {
        try {
          sink.event(event);
        } catch (error) {
          onError?.(error);
        }
      }
    },
  };
}
