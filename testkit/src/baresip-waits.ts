/**
 * Waiting on a baresip agent: for a ctrl_tcp event, or for a SIP request its
 * trace shows it received. Each wait looks at what already happened when
 * asked (`since`), then listens; it fails at once when baresip exits, and on
 * its timeout with what was seen last and the process's output.
 */
import type { EventEmitter } from 'node:events';

import type { BaresipEvent, BaresipEventType } from './baresip-ctrl.js';
import type { BaresipAgentEvents, WaitOptions } from './baresip-types.js';
import type { ManagedProcess } from './process.js';
import type { SipMessage } from './sip-message.js';
import { TestkitError } from './testkit-error.js';

/** The agent a wait listens on. */
export interface WaitTarget {
  readonly events: EventEmitter<BaresipAgentEvents>;
  readonly process: ManagedProcess;
}

/** The next ctrl_tcp event of `type` matching `predicate` (or a past one, with `options.since`). */
export function waitForBaresipEvent(
  agent: WaitTarget,
  history: readonly BaresipEvent[],
  type: BaresipEventType,
  predicate: (event: BaresipEvent) => boolean,
  timeoutMs: number,
  options: WaitOptions,
): Promise<BaresipEvent> {
  const matches = (event: BaresipEvent): boolean => event.type === type && predicate(event);
  if (options.since !== undefined) {
    const past = history.slice(options.since).find(matches);
    if (past) return Promise.resolve(past);
  }
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      agent.events.off('event', onEvent);
      agent.events.off('exit', onExit);
      options.signal?.removeEventListener('abort', onAbort);
    };
    const onAbort = (): void => {
      cleanup();
      reject(options.signal?.reason);
    };
    const onEvent = (event: BaresipEvent): void => {
      if (!matches(event)) return;
      cleanup();
      resolve(event);
    };
    const onExit = (): void => {
      cleanup();
      reject(
        new TestkitError(
          'process_exited',
          `baresip exited while waiting for ${type}\n${agent.process.describe(40)}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      const seen = history.slice(-15).map((e) => `${e.type}${e.param ? `(${e.param})` : ''}`);
      reject(
        new TestkitError(
          'timeout',
          `no ${type} from ${agent.process.name} within ${timeoutMs} ms; last events: ${seen.join(', ') || 'none'}\n${agent.process.describe(30)}`,
        ),
      );
    }, timeoutMs);
    agent.events.on('event', onEvent);
    agent.events.on('exit', onExit);
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
    else if (!agent.process.running) onExit();
  });
}

/** The next SIP request `method` the agent receives matching `predicate` (or a past one, with `options.since`). */
export function waitForReceivedRequest(
  agent: WaitTarget,
  messages: () => readonly SipMessage[],
  method: string,
  predicate: (message: SipMessage) => boolean,
  timeoutMs: number,
  options: { readonly since?: number },
): Promise<SipMessage> {
  const wanted = method.toUpperCase();
  const matches = (m: SipMessage): boolean =>
    m.direction === 'in' && m.method === wanted && predicate(m);
  if (options.since !== undefined) {
    const past = messages().slice(options.since).find(matches);
    if (past) return Promise.resolve(past);
  }
  return new Promise((resolve, reject) => {
    const cleanup = (): void => {
      clearTimeout(timer);
      agent.events.off('sip', onSip);
      agent.events.off('exit', onExit);
    };
    const onSip = (message: SipMessage): void => {
      if (!matches(message)) return;
      cleanup();
      resolve(message);
    };
    const onExit = (): void => {
      cleanup();
      reject(
        new TestkitError(
          'process_exited',
          `baresip exited while waiting for ${wanted}\n${agent.process.describe(40)}`,
        ),
      );
    };
    const timer = setTimeout(() => {
      cleanup();
      const seen = messages()
        .slice(-10)
        .map((m) => `${m.direction} ${m.startLine}`);
      reject(
        new TestkitError(
          'timeout',
          `${agent.process.name} received no ${wanted} within ${timeoutMs} ms; last SIP: ${seen.join(' | ') || 'none'}`,
        ),
      );
    }, timeoutMs);
    agent.events.on('sip', onSip);
    agent.events.on('exit', onExit);
    if (!agent.process.running) onExit();
  });
}
