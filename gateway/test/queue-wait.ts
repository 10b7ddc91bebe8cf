import { once } from 'node:events';
import type { Gateway } from '../src/gateway.js';

/** Resolves when `queue` has exactly `count` callers waiting (the queue service's own event). */
export async function callersWaiting(
  gateway: Gateway,
  queue: string,
  count: number,
): Promise<void> {
  const queues = gateway.telephony.queues;
  for (;;) {
    const [name, callers] = await once(queues, 'waiting');
    if (name === queue && (callers as readonly unknown[]).length === count) return;
  }
}
