/**
 * Callbacks on real peers, the cases beside "1" and "2" (issue 13): sipp on
 * the carrier side of a trunk (127.0.0.2) is the customer's phone, a baresip
 * phone the advertiser (agent1, a fixed contact).
 * - no answer: tried again after noAnswerDelaySeconds, then given up; both
 *   INVITEs CANCELled; the advertiser never rings; nothing charged;
 * - an advertiser who cannot pay: refused when asked (no call placed); one
 *   who could when asked but no longer can when "1" is pressed is never
 *   called, the record says advertiser_cannot_pay, no ledger row;
 * - "1" by SIP INFO (application/dtmf-relay) after the prompt: the
 *   advertiser is dialled and bridged, charged once;
 * - an agent as the listing's destination: bridged, charged once;
 * - a time slot: placed at its time, not before;
 * - "when an agent is free": waits while the agent is away, placed when the
 *   agent comes back;
 * - cancelled during the conversation: both legs hung up, the outcome stays
 *   `completed` and the fee (charged at connect) stays one.
 */
import { sippAvailable, stopAll, type BaresipAgent } from '@parley/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CUSTOMER, startCallbacksWorld, type CallbacksWorld } from './callbacks-world.js';
import type { TestGateway } from './harness.js';
import { promptText } from './callbacks-speech.js';
import { responsesIn, transactionsIn } from './sipp-log.js';

let world: CallbacksWorld;
let gw: TestGateway;
let advertiser: BaresipAgent;
/** How many callback fees the advertiser's ledger holds. */
const fees = async (advertiserId: string) => (await world.fees(advertiserId)).length;

afterAll(async () => {
  await world?.close();
  await stopAll();
});

describe.skipIf(!sippAvailable())('callbacks: the other cases, on real peers', () => {
  beforeAll(async () => {
    world = await startCallbacksWorld({ rateLimit: { perNumber: { max: 100 } } });
    ({ gw, advertiser } = world);
  });

  it('no answer: tried again once, then given up; the advertiser never rings', async () => {
    const { advertiserId, listingId } = await world.newListing();
    const sipp = await world.startCustomer('uas-ring-no-answer');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const { id } = await world.ask(listingId, 'now');
    const { record, phases } = await world.ended(id);
    expect(record.outcome).toBe('no_answer');
    expect(record.code).toBe('number_no_answer');
    expect(record.attempts).toHaveLength(2);
    const [first, second] = record.attempts;
    expect(second!.startedAt - first!.customer.endedAt!).toBeGreaterThanOrEqual(10_000);
    // The page was told of the retry and its time.
    const retry = phases.find((e) => e.phase === 'scheduled' && e.attempt === 1);
    expect(retry?.dueAt).not.toBeNull();
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore);
    expect(await fees(advertiserId)).toBe(0);
    const result = await sipp.stop();
    // Two INVITE transactions, each CANCELled (a loaded machine's late 180 draws
    // a retransmission of the same INVITE: counted by its branch, once).
    expect(transactionsIn(result.messages, 'INVITE')).toHaveLength(2);
    expect(transactionsIn(result.messages, 'CANCEL')).toHaveLength(2);
  });

  it('an advertiser who cannot pay when asked: refused at once, no call placed', async () => {
    const { listingId } = await world.newListing({ initialBalanceCents: 0 });
    const token = await gw.token({
      scope: `callback:listing.${listingId}`,
      privateClaims: { callback: { phone: CUSTOMER, when: 'now' } },
    });
    const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, destination: `listing.${listingId}` }),
    });
    const body = (await res.json()) as { error: { code: string; detail?: string } };
    expect(res.status).toBe(503);
    expect(body.error).toMatchObject({ code: 'listing_unavailable', detail: 'insufficient_funds' });
    const listed = await gw.gateway.callbacks.service.list({ limit: 500 });
    expect(listed.filter((c) => c.listingId === listingId)).toEqual([]);
  });

  it('an advertiser who can no longer pay at "1" is never called; nothing charged', async () => {
    // Credit enough when asked; the credit is withdrawn while the callback waits for an agent.
    const { advertiserId, listingId } = await world.newListing({
      billing: 'credit',
      creditLimitCents: 1000,
    });
    await world.startCustomer('uas-carrier-press-1');
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    gw.gateway.agents.setAvailability('agent1', 'away');
    const { id } = await world.ask(listingId, 'agent-free');
    const done = world.ended(id);
    const patched = await gw.apiRequest('PATCH', `/v1/advertisers/${advertiserId}`, {
      creditLimitCents: 0,
    });
    expect(patched.status, JSON.stringify(patched.body)).toBe(200);
    gw.gateway.agents.setAvailability('agent1', 'available');
    const { record, phases } = await done;
    expect(record.outcome).toBe('advertiser_cannot_pay');
    expect(record.code).toBe('callback_cannot_pay');
    expect(record.attempts[0]?.key).toBe('1');
    expect(record.attempts[0]?.advertiser).toEqual([]);
    expect(phases.map((e) => e.phase)).not.toContain('connecting');
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore);
    expect(record.chargedAt).toBeNull();
    expect(await fees(advertiserId)).toBe(0);
  });

  it('"1" by SIP INFO after the prompt: the advertiser is dialled and bridged, charged once', async () => {
    const { advertiserId, listingId } = await world.newListing();
    // The INFO comes half a second past the prompt's length after the ACK (2 s are left for a key).
    const prompt = await gw.gateway.speech.tts.synthesize(promptText('Bob the Plumber'), {
      sampleRate: 8000,
    });
    await world.startCustomer('uas-carrier-info-1', { callDurationMs: prompt.durationMs + 500 });
    const invitesBefore = advertiser.receivedRequests('INVITE').length;
    const established = advertiser.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    const { id } = await world.ask(listingId, 'now');
    const done = world.ended(id);
    await established;
    await advertiser.hangup();
    const { record } = await done;
    expect(record.outcome, JSON.stringify(record.attempts)).toBe('completed');
    const attempt = record.attempts[0]!;
    expect(attempt).toMatchObject({ key: '1', keySource: 'info' });
    expect(attempt.keyAt! - attempt.promptAt!).toBeGreaterThanOrEqual(prompt.durationMs);
    expect(advertiser.receivedRequests('INVITE').length).toBe(invitesBefore + 1);
    expect(await fees(advertiserId)).toBe(1);
    const result = (await world.stopCustomer())!;
    expect(responsesIn(result.messages).filter((r) => /CSeq:\s*1 INFO/i.test(r.text))).toEqual([
      expect.objectContaining({ status: 200 }),
    ]);
  });

  it('an agent as the destination: "1" bridges the agent, charged once', async () => {
    const { advertiserId, listingId } = await world.newListing(undefined, {
      kind: 'agent',
      agent: 'agent1',
    });
    await world.startCustomer('uas-carrier-press-1');
    const established = advertiser.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    const { id } = await world.ask(listingId, 'now');
    const done = world.ended(id);
    await established;
    await advertiser.hangup();
    const { record } = await done;
    expect(record.outcome, JSON.stringify(record.attempts)).toBe('completed');
    expect(record.target).toMatchObject({ kind: 'agent' });
    expect(await fees(advertiserId)).toBe(1);
  });

  it('a time slot is placed at its time, not before', async () => {
    const { listingId } = await world.newListing();
    await world.startCustomer('uas-carrier-press-2');
    const slot = new Date(Date.now() + 4000);
    const { id } = await world.ask(listingId, slot.toISOString());
    const asked = await gw.gateway.callbacks.service.get(id);
    expect(asked?.mode).toBe('slot');
    expect(asked?.dueAt).toBe(slot.getTime());
    const { record, phases } = await world.ended(id);
    expect(phases[0]?.phase).toBe('scheduled');
    expect(phases[0]?.dueAt).toBe(slot.toISOString());
    expect(record.attempts[0]!.startedAt).toBeGreaterThanOrEqual(slot.getTime());
    expect(record.outcome).toBe('declined');
  });

  it('"when an agent is free" waits while the agent is away, and runs when it comes back', async () => {
    const { listingId } = await world.newListing();
    const sipp = await world.startCustomer('uas-carrier-press-2');
    gw.gateway.agents.setAvailability('agent1', 'away');
    const { id } = await world.ask(listingId, 'agent-free');
    const done = world.ended(id);
    const waiting = await gw.gateway.callbacks.service.get(id);
    expect(waiting).toMatchObject({ mode: 'agent-free', state: 'scheduled', attempts: [] });
    const back = Date.now();
    gw.gateway.agents.setAvailability('agent1', 'available');
    const { record } = await done;
    expect(record.attempts[0]!.startedAt).toBeGreaterThanOrEqual(back);
    expect(record.outcome).toBe('declined');
    const result = await sipp.stop();
    expect(transactionsIn(result.messages, 'INVITE')).toHaveLength(1);
  });

  it('cancelled during the conversation: both legs hung up, the fee stays one', async () => {
    const { advertiserId, listingId } = await world.newListing();
    await world.startCustomer('uas-carrier-press-1');
    const established = advertiser.waitForEvent('CALL_RTPESTAB', undefined, 30_000);
    const { id, key } = await world.ask(listingId, 'now');
    const done = world.ended(id);
    await established;
    const closed = advertiser.waitForEvent('CALL_CLOSED', undefined, 30_000);
    const res = await fetch(`${gw.gateway.httpUrl}/v1/callbacks/${id}/cancel?key=${key}`, {
      method: 'POST',
    });
    expect(res.status).toBe(200);
    await closed;
    const { record } = await done;
    expect(record.connectedAt).not.toBeNull();
    // They talked and the fee was charged at connect: the callback is completed, ended by the cancel.
    expect(record.outcome).toBe('completed');
    expect(record.attempts[0]?.endedAt).not.toBeNull();
    expect(await fees(advertiserId)).toBe(1);
    const result = (await world.stopCustomer())!;
    expect(transactionsIn(result.messages, 'BYE').length).toBeGreaterThanOrEqual(1);
  });
});
