/**
 * A call record for tests that need one in storage (the data channel's
 * messages reference their call; a restart closes open ones): a call still
 * routing, with `overrides` on top.
 * @internal
 */
import type { CallRecord } from './records.js';

export function testCallRecord(id: string, overrides: Partial<CallRecord> = {}): CallRecord {
  return {
    id,
    tenant: 'acme',
    sessionId: `web-${id}`,
    sessionNumber: '+15550100',
    numberFallback: false,
    customerId: null,
    queue: 'sales',
    origin: 'https://shop.acme.test',
    visitorCallId: `visitor-${id}`,
    visitorTransport: 'WS',
    visitorSource: '127.0.0.1:5062',
    agentCallId: null,
    agentId: null,
    state: 'routing',
    outcome: null,
    endedBy: null,
    sipStatus: null,
    reason: null,
    attempts: [],
    media: null,
    routing: null,
    dialogs: [],
    createdAt: Date.parse('2026-11-25T10:00:00Z'),
    ringingAt: null,
    answeredAt: null,
    endedAt: null,
    ...overrides,
  };
}
