/**
 * A SIP visitor's call (a call token, as the widget sends it) to a queue no
 * agent will take runs the queue's flows as a DID's `enqueue` would
 * (docs/flows.md, "Where flows run"), with real peers: the visitor is our raw
 * SIP client with an RTP socket that keeps what it hears, the agent a baresip
 * phone signed in to every queue, and pocketsphinx finds the prompt's words in
 * what the visitor heard.
 *
 * - `sales` is closed (no opening hours at all) and names `flows.closed`: no
 *   agent rings, the closed flow says its prompt and hangs up with
 *   `outside_business_hours`.
 * - `support` is closed and names no flow: the tenant's `defaultFlow` runs.
 * - `help` is open but no agent serves it: the tenant's `defaultFlow` runs
 *   instead of the 480 a queue without any flow gives.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stopAll, wordsFound, type BaresipAgent } from '@parley/testkit';
import type { FlowEvent } from '@parley/shared/protocol';
import { registeredAgent, startTestGateway, type TestGateway } from './harness.js';
import { VoicemailCaller } from './voicemail-caller.js';
import { heardWords } from './voicemail-checks.js';

const CLOSED_TEXT = 'We are closed for the holiday. Please call again on Monday morning.';
const DEFAULT_TEXT = 'Thank you for calling Acme. Our office will phone you back tomorrow.';
/** The words of a sentence, as pocketsphinx spells them. */
const spoken = (text: string) => text.toLowerCase().replace(/[^a-z ]/g, '');
/** A schedule with no opening hours: closed whenever the test runs. */
const NEVER_OPEN = { timeZone: 'UTC', weekly: {} };

let gw: TestGateway;
let agent: BaresipAgent;
const callIds: string[] = [];

beforeAll(async () => {
  gw = await startTestGateway({
    agents: [{ id: 'agent1', queues: ['sales', 'support'] }],
    tenantExtra: { defaultFlow: 'after-hours' },
    config: {
      queues: {
        sales: {
          tenant: 'acme',
          ringTimeoutSeconds: 10,
          businessHours: NEVER_OPEN,
          flows: { closed: 'closed-line' },
        },
        support: { tenant: 'acme', ringTimeoutSeconds: 10, businessHours: NEVER_OPEN },
        help: { tenant: 'acme', ringTimeoutSeconds: 10 },
      },
      flows: {
        'closed-line': [
          { verb: 'say', text: CLOSED_TEXT },
          { verb: 'hangup', reason: 'outside_business_hours' },
        ],
        'after-hours': [{ verb: 'say', text: DEFAULT_TEXT }, { verb: 'hangup' }],
      },
    },
  });
  gw.gateway.calls.onCall((call) => callIds.push(call.id));
  agent = await registeredAgent(gw);
});
afterAll(async () => {
  await agent?.stop();
  await gw?.close();
  await stopAll();
});

/**
 * The visitor calls `queue`; resolves once the gateway hung up, with what the
 * visitor heard (pocketsphinx), the flow events stored and the call record.
 */
async function callQueue(queue: string, session: string) {
  const caller = await VoicemailCaller.open();
  const since = agent.mark();
  try {
    await caller.call(
      gw.udp,
      await gw.token({ subject: session, scope: `queue:${queue}` }),
      30_000,
      queue,
    );
    await caller.byeFromGateway(gw.udp, 40_000);
    await gw.callsEnded();
    const callId = callIds.at(-1) ?? '';
    const words = await heardWords(caller, caller.heard.length);
    const events: FlowEvent[] = await gw.gateway.telephony.events.list(callId);
    const record = await gw.api<{ queue: string; outcome: string; reason: string | null }>(
      `/v1/calls/${callId}`,
    );
    const rang = agent.history.slice(since).some((e) => e.type === 'CALL_INCOMING');
    return { words, events, record: record.body, rang };
  } finally {
    caller.close();
  }
}

/** The stored events as `type flow [verb:status]`, in order. */
function steps(events: readonly FlowEvent[]): string[] {
  return events.map((e) => {
    if (e.type === 'verb.result') return `${e.type} ${e.flow} ${e.verb}:${e.result.status}`;
    if (e.type === 'verb.start') return `${e.type} ${e.flow} ${e.verb}`;
    if (e.type === 'flow.end') return `${e.type} ${e.flow} ${e.reason}`;
    return `${e.type} ${e.flow}`;
  });
}

describe('a visitor whose queue no agent will take', () => {
  it("outside business hours: no agent rings, the queue's closed flow says its prompt and hangs up", async () => {
    const { words, events, record, rang } = await callQueue('sales', 'web-closed');
    expect(wordsFound(spoken(CLOSED_TEXT), words), words).toBeGreaterThanOrEqual(5);
    expect(words).toMatch(/monday/);
    expect(rang).toBe(false);
    expect(steps(events)).toEqual([
      'flow.start closed-line',
      'verb.start closed-line say',
      'verb.result closed-line say:completed',
      'verb.start closed-line hangup',
      'verb.result closed-line hangup:completed',
      'flow.end closed-line completed',
    ]);
    expect(record).toMatchObject({
      queue: 'sales',
      outcome: 'answered',
      reason: 'outside_business_hours',
    });
  }, 120_000);

  it("outside business hours with no closed flow: the tenant's default flow runs", async () => {
    const { words, events, record, rang } = await callQueue('support', 'web-default-closed');
    expect(wordsFound(spoken(DEFAULT_TEXT), words), words).toBeGreaterThanOrEqual(5);
    expect(rang).toBe(false);
    expect(steps(events)[0]).toBe('flow.start after-hours');
    expect(steps(events)).toContain('verb.result after-hours say:completed');
    expect(steps(events).at(-1)).toBe('flow.end after-hours completed');
    expect(record).toMatchObject({ queue: 'support', outcome: 'answered', reason: 'completed' });
  }, 120_000);

  it("open, with no agent for the queue: the tenant's default flow runs instead of a refusal", async () => {
    const { words, events, record } = await callQueue('help', 'web-default-open');
    expect(wordsFound(spoken(DEFAULT_TEXT), words), words).toBeGreaterThanOrEqual(5);
    expect(steps(events)[0]).toBe('flow.start after-hours');
    expect(steps(events).at(-1)).toBe('flow.end after-hours completed');
    expect(record).toMatchObject({ queue: 'help', outcome: 'answered', reason: 'completed' });
  }, 120_000);
});
