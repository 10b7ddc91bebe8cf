/**
 * The gateway's queue status for a browser visitor waiting in a queue, sent
 * on the call's data channel (gateway → widget only: never stored, never
 * accepted from a peer, like the notices in `messages.ts`). The widget shows
 * "You are number N in the queue, about M minutes".
 *
 * - `waiting`: sent when the visitor joins, whenever the position changes,
 *   and at the queue's announcement interval;
 * - `connecting`: a free agent was found and is being rung for the visitor;
 * - `left`: the visitor is out of the queue (`reason`: `answered` by an agent,
 *   `timeout` after the queue's longest wait, `closed`, `full`, `no-agents`,
 *   `error`);
 *   whatever runs next (the agent, the queue's fallback flow) follows.
 */
export interface QueueStatus {
  readonly type: 'queue';
  readonly state: 'waiting' | 'connecting' | 'left';
  readonly queue: string;
  /** 1 is next. Present while `waiting`. */
  readonly position?: number;
  /**
   * Estimated wait in seconds (docs/flows.md, "Estimated wait"); null when
   * no estimate can be made (no agent of the queue is signed in).
   */
  readonly estimatedWaitSeconds?: number | null;
  /** With `left`. */
  readonly reason?: 'answered' | 'timeout' | 'closed' | 'full' | 'no-agents' | 'error';
  readonly at: string;
}

const STATES: readonly string[] = ['waiting', 'connecting', 'left'];
const REASONS: readonly string[] = ['answered', 'timeout', 'closed', 'full', 'no-agents', 'error'];

const isCount = (v: unknown): v is number =>
  typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 1_000_000;

/**
 * Reads a data-channel frame as a queue status; undefined when it is not one
 * (or is malformed: the widget ignores what it cannot show). Never throws.
 */
export function parseQueueStatus(frame: unknown): QueueStatus | undefined {
  if (typeof frame !== 'string' || frame.length > 1024) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(frame);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const m = value as Record<string, unknown>;
  if (m['type'] !== 'queue' || typeof m['state'] !== 'string' || !STATES.includes(m['state']))
    return undefined;
  if (typeof m['queue'] !== 'string' || typeof m['at'] !== 'string') return undefined;
  if (m['state'] === 'waiting') {
    if (!isCount(m['position']) || m['position'] < 1) return undefined;
    const wait = m['estimatedWaitSeconds'];
    if (wait !== null && wait !== undefined && !isCount(wait)) return undefined;
  }
  if (
    m['reason'] !== undefined &&
    (typeof m['reason'] !== 'string' || !REASONS.includes(m['reason']))
  )
    return undefined;
  return value as QueueStatus;
}
