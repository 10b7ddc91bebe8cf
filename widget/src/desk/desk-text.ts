/**
 * What the desk says: labels and rows built from the API's data, with no DOM,
 * so they are unit-tested and the element only lays them out.
 */
import type { NavigationMessage, StoredMessage } from '@parley/shared/protocol';
import { formatDuration } from '../call-element/state-text.js';
import type { DeskApiError } from './desk-api-error.js';
import type { DeskConnection } from './desk-client.js';
import type {
  CallContext,
  DeskAgent,
  ProviderScore,
  RoutingCandidate,
  RoutingDecision,
} from './desk-protocol.js';
import type { PhoneStatusChange } from './softphone-types.js';

export { formatDuration };

/** A labelled line of a details list. */
export interface Row {
  readonly label: string;
  readonly value: string;
  /** Worth a warning mark (a provider fallback, an algorithm error). */
  readonly warning?: boolean;
}

/** Milliseconds of wrap-up left, or undefined when not in wrap-up. */
export function wrapUpRemainingMs(agent: DeskAgent, now: number): number | undefined {
  if (agent.wrapUpUntil === null) return undefined;
  const until = Date.parse(agent.wrapUpUntil);
  if (Number.isNaN(until)) return undefined;
  return Math.max(0, until - now);
}

/** The agent's state in plain words, with the wrap-up countdown. */
export function agentStateText(agent: DeskAgent, now: number): string {
  switch (agent.state) {
    case 'available':
      return 'Available';
    case 'away':
      return 'Away';
    case 'wrap-up': {
      const left = wrapUpRemainingMs(agent, now);
      return left === undefined ? 'Wrap-up' : `Wrap-up, ${formatDuration(left + 999)} left`;
    }
    case 'ringing':
      return 'Ringing';
    case 'busy':
      return 'On a call';
    case 'offline':
      return agent.registered ? 'Offline' : 'Offline: no phone registered';
  }
}

export function phoneStatusText(enabled: boolean, status: PhoneStatusChange): string {
  if (!enabled) return 'Calls ring on your SIP phone.';
  switch (status.status) {
    case 'off':
      return 'Not connected.';
    case 'connecting':
      return 'Connecting this browser as your phone…';
    case 'registered':
      return 'Ready: calls ring in this browser.';
    case 'reconnecting':
      return `Reconnecting${status.reason ? ` (${status.reason})` : ''}…`;
    case 'failed':
      return `Not registered${status.reason ? `: ${status.reason}` : ''}.`;
  }
}

export function connectionText(connection: DeskConnection): string {
  switch (connection) {
    case 'open':
      return '';
    case 'connecting':
      return 'Connecting to the gateway…';
    case 'reconnecting':
      return 'Connection lost. Reconnecting…';
    case 'closed':
      return 'Not connected to the gateway.';
  }
}

/** What a failed sign-in says. */
export function signInErrorText(
  error: Pick<DeskApiError, 'code' | 'status' | 'retryAfterSeconds' | 'message'>,
): string {
  if (error.status === 401) return 'Wrong username or password.';
  if (error.status === 429) {
    const wait = error.retryAfterSeconds;
    return wait === undefined
      ? 'Too many sign-in attempts. Please wait a moment and try again.'
      : `Too many sign-in attempts. Please try again in ${Math.ceil(wait)} seconds.`;
  }
  if (error.code === 'network') return 'The gateway cannot be reached. Check your connection.';
  if (error.status === 400) return 'Enter your username and password.';
  return `Sign-in failed: ${error.message}`;
}

const str = (v: unknown): string | undefined =>
  typeof v === 'string' && v.trim() !== ''
    ? v
    : typeof v === 'number' || typeof v === 'boolean'
      ? String(v)
      : undefined;

/** The customer's name from the private claims, else their id, else the session number. */
export function callerName(context: CallContext): string {
  return (
    str(context.privateClaims.name) ??
    str(context.privateClaims.customerId) ??
    (context.sessionNumber || 'Unknown caller')
  );
}

/** Read out by the live region when a call rings. */
export function ringAnnouncement(context: CallContext): string {
  const name = str(context.privateClaims.name);
  const number = context.sessionNumber;
  const who = name && number ? `${name}, ${number}` : (name ?? number ?? 'unknown caller');
  const queue = context.queue ? ` on ${context.queue}` : '';
  return `Incoming call${queue} from ${who}.`;
}

const CUSTOMER_LABELS: Readonly<Record<string, string>> = {
  name: 'Name',
  customerId: 'Customer ID',
  tier: 'Tier',
  phone: 'Phone',
};

/** Who the customer is: the company's private claims, well-known ones first. */
export function customerRows(context: CallContext): Row[] {
  const claims = context.privateClaims;
  const rows: Row[] = [];
  for (const [key, label] of Object.entries(CUSTOMER_LABELS)) {
    const value = str(claims[key]);
    if (value !== undefined) rows.push({ label, value });
  }
  for (const [key, raw] of Object.entries(claims)) {
    if (key in CUSTOMER_LABELS || raw === undefined || raw === null) continue;
    const value = str(raw) ?? JSON.stringify(raw);
    if (value !== undefined) rows.push({ label: claimLabel(key), value: clip(value, 200) });
  }
  return rows;
}

/** Where the visitor is: the page origin and, when known, the page. */
export function pageRows(context: CallContext, page: NavigationMessage | undefined): Row[] {
  const rows: Row[] = [];
  const origin = context.origin || str(context.publicClaims.origin);
  if (origin) rows.push({ label: 'Site', value: origin });
  if (page)
    rows.push({ label: 'On page', value: page.title ? `${page.title} (${page.url})` : page.url });
  if (context.queue) rows.push({ label: 'Queue', value: context.queue });
  return rows;
}

export function formatScore(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  return Number.isInteger(value) ? String(value) : value.toFixed(2).replace(/\.?0+$/, '');
}

function scoreText(score: ProviderScore): string {
  const base = formatScore(score.score);
  if (score.fallback) return `${base} (default used: ${score.error ?? 'provider failed'})`;
  return score.cached ? `${base} (cached)` : `${base} (${Math.round(score.ms)} ms)`;
}

/**
 * The customer's value, the scores behind it, and the agents the decision
 * considered. `answeredBy`: the agent who took the call, once one did.
 */
export function valueRows(
  routing: RoutingDecision,
  options: { readonly answeredBy?: string | undefined } = {},
): Row[] {
  const { history, algorithm } = routing;
  const rows: Row[] = [
    { label: 'Value', value: `${formatScore(routing.value)} (${routing.tier})` },
    { label: 'Benefit', value: scoreText(routing.benefit), warning: routing.benefit.fallback },
    { label: 'Burden', value: scoreText(routing.burden), warning: routing.burden.fallback },
    {
      label: 'History',
      value:
        `${plural(history.calls, 'call')} (${history.answeredCalls} answered), ` +
        `${formatScore(history.minutes)} min, ${plural(history.repeatContacts, 'repeat contact')} ` +
        `in ${history.windowDays} days`,
    },
  ];
  const terms = Object.entries(routing.terms);
  if (terms.length > 0) {
    rows.push({
      label: 'Terms',
      value: terms.map(([name, value]) => `${name} ${formatScore(value)}`).join(', '),
    });
  }
  rows.push({
    label: 'Algorithm',
    value: `${algorithm.name}@${algorithm.version}${algorithm.error ? ` (failed: ${algorithm.error})` : ''}`,
    warning: algorithm.error !== undefined,
  });
  const candidates = candidatesRow(routing, options.answeredBy);
  if (candidates) rows.push(candidates);
  return rows;
}

/**
 * Who the routing decision considered, in the order they were to ring, and
 * who answered. The list is the one made when the call was routed: an agent
 * who became free later and took the call is named after it.
 */
export function candidatesRow(routing: RoutingDecision, answeredBy?: string): Row | undefined {
  // parseCallContext does not check the list: a gateway of another version may
  // leave it out, and "no agent available" would then be wrong. No row.
  const candidates: readonly RoutingCandidate[] | undefined = Array.isArray(routing.candidates)
    ? routing.candidates
    : undefined;
  if (!candidates) return undefined;
  const label =
    routing.strategy === 'simultaneous' ? 'Candidates (several ring at once)' : 'Candidates';
  if (candidates.length === 0) {
    return {
      label,
      value: `No agent available for the ${routing.tier} band`,
      warning: true,
    };
  }
  const listed = candidates.map((c, i) => {
    const notes = [
      ...(c.agentTier ? [c.agentTier] : []),
      `idle ${formatDuration(c.idleMs)}`,
      ...(c.agentId === answeredBy ? ['answered'] : []),
    ];
    return `${i + 1}. ${c.agentId} (${notes.join(', ')})`;
  });
  const late =
    answeredBy !== undefined && !candidates.some((c) => c.agentId === answeredBy)
      ? `; answered by ${answeredBy}`
      : '';
  return { label, value: `${listed.join(', ')}${late}` };
}

const OUTCOMES: Readonly<Record<string, string>> = {
  answered: 'Answered',
  cancelled: 'Cancelled',
  busy: 'Busy',
  no_answer: 'Not answered',
  no_agent: 'No agent available',
  failed: 'Failed',
};

export function outcomeText(outcome: string | null, reason?: string | null): string {
  const base = outcome === null ? 'In progress' : (OUTCOMES[outcome] ?? outcome);
  return reason && reason !== outcome ? `${base} (${reason.replaceAll('_', ' ')})` : base;
}

/** One entry of the chat log for a stored data-channel message. */
export function describeMessage(stored: StoredMessage): {
  from: 'visitor' | 'agent' | 'event';
  text: string;
} {
  const message = stored.message;
  switch (message.type) {
    case 'chat':
      return { from: stored.from, text: message.text };
    case 'navigation':
      return {
        from: 'event',
        text: `Visitor went to ${message.title ? `${message.title} (${message.url})` : message.url}`,
      };
    case 'form': {
      const fields = Object.entries(message.fields)
        .map(([k, v]) => `${k}: ${v}`)
        .join(', ');
      return { from: 'event', text: `Form "${message.form}"${fields ? `: ${fields}` : ''}` };
    }
    case 'custom':
      return {
        from: 'event',
        text: `${message.name}${message.data === undefined ? '' : `: ${clip(JSON.stringify(message.data), 300)}`}`,
      };
  }
}

/** The visitor's latest page: their last `navigation` message. */
export function latestPage(messages: readonly StoredMessage[]): NavigationMessage | undefined {
  let latest: StoredMessage | undefined;
  for (const stored of messages) {
    if (stored.from !== 'visitor' || stored.message.type !== 'navigation') continue;
    if (!latest || stored.seq > latest.seq) latest = stored;
  }
  return latest?.message as NavigationMessage | undefined;
}

function plural(n: number, word: string): string {
  return `${formatScore(n)} ${word}${n === 1 ? '' : 's'}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `orderNumber` → `Order number`, `order_number` → `Order number`. */
function claimLabel(key: string): string {
  const words = key
    .replace(/[_-]+/g, ' ')
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** Talk time of a call record (answer to end), if it was answered and ended. */
export function talkMs(call: {
  answeredAt: string | null;
  endedAt: string | null;
}): number | undefined {
  if (call.answeredAt === null || call.endedAt === null) return undefined;
  const ms = Date.parse(call.endedAt) - Date.parse(call.answeredAt);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** One line for a previous call of the session. */
export function previousCallText(call: {
  outcome: string | null;
  agentId: string | null;
  talkSeconds: number;
}): string {
  const talk = call.talkSeconds > 0 ? `, ${formatDuration(call.talkSeconds * 1000)}` : '';
  const agent = call.agentId ? ` with ${call.agentId}` : '';
  return `${outcomeText(call.outcome)}${agent}${talk}`;
}

/** A call's time: the time of day today, else the date and time. */
export function formatWhen(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  const today = new Date().toDateString() === date.toDateString();
  return today
    ? date.toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' })
    : date.toLocaleString(undefined, {
        month: 'short',
        day: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
      });
}
