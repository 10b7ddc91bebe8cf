/**
 * The states of a visitor's call, as the element shows them and as
 * `parley-state` reports them.
 *
 * ```
 *            call()
 *   idle ───────────▶ permission ──▶ connecting ──▶ ringing ──▶ in-call ◀──▶ reconnecting
 *                         │               │  └──────────────────▶ │               │
 *                         ▼               ▼             ▼          ▼               ▼
 *                    error | ended   error | ended  error | ended  error | ended  error | ended
 *
 *   ended | error ──call()──▶ permission
 * ```
 *
 * `ended` is a call that finished normally (either side hung up); `error`
 * always comes with a code from `shared/src/errors/codes.ts`. `reconnecting`:
 * the WebSocket dropped mid-call and the widget is bringing the call back
 * (`../client/reconnect.ts`); it returns to `in-call`, or ends in `error`
 * (`reconnect_expired`, `reconnect_refused`).
 */
export const CALL_STATES = [
  'idle',
  'permission',
  'connecting',
  'ringing',
  'in-call',
  'reconnecting',
  'ended',
  'error',
] as const;
export type CallState = (typeof CALL_STATES)[number];

const NEXT: { readonly [S in CallState]: readonly CallState[] } = {
  idle: ['permission'],
  permission: ['connecting', 'ended', 'error'],
  connecting: ['ringing', 'in-call', 'ended', 'error'],
  ringing: ['in-call', 'ended', 'error'],
  'in-call': ['reconnecting', 'ended', 'error'],
  reconnecting: ['in-call', 'ended', 'error'],
  ended: ['permission'],
  error: ['permission'],
};

/** Whether `to` may follow `from` (the diagram above). */
export function canTransition(from: CallState, to: CallState): boolean {
  return NEXT[from].includes(to);
}

/** The call was answered and goes on (also while its WebSocket is brought back): the timer runs. */
export function isAnswered(state: CallState): boolean {
  return state === 'in-call' || state === 'reconnecting';
}

/** States in which a call is under way (hang-up makes sense). */
export function isActive(state: CallState): boolean {
  return state !== 'idle' && state !== 'ended' && state !== 'error';
}
