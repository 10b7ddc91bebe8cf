import { ParleyError } from '@parley/shared/errors';
import type { Config } from '../config/index.js';
import type { QueueRouting } from './candidates.js';

/** How a queue's calls are routed and rung. */
export interface QueueSettings {
  /** How long one agent (or batch) rings before the next is tried. */
  readonly ringTimeoutSeconds: number;
  /** How many agents are tried before the caller is told no one answered. */
  readonly maxAttempts: number;
  /** After a call, the agent gets this long without calls. */
  readonly wrapUpSeconds: number;
  readonly routing: QueueRouting;
}

/**
 * The settings of each configured queue, as calls use them. The defaults live
 * in one place, the config schema (`queues.<name>.*`, see docs/configuration.md);
 * a queue that is not configured has no settings (the SBC refuses its calls).
 */
export function queueSettings(queues: Config['queues']): (name: string) => QueueSettings {
  const settings = new Map<string, QueueSettings>();
  for (const [name, q] of Object.entries(queues)) {
    settings.set(name, {
      ringTimeoutSeconds: q.ringTimeoutSeconds,
      maxAttempts: q.maxAttempts,
      wrapUpSeconds: q.wrapUpSeconds,
      routing: { strategy: q.strategy, ringAtOnce: q.ringAtOnce, bands: q.bands },
    });
  }
  return (name) => {
    const found = settings.get(name);
    if (!found) throw new ParleyError('unknown_queue', `queue "${name}" is not configured`);
    return found;
  };
}
