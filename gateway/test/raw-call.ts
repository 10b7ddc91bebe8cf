/**
 * A whole call with bare UDP sockets (the visitor, and an agent's phone that is
 * a fixed contact): the INVITE with a real token, the agent's answer, the
 * visitor's ACK and BYE. For tests of what happens around calls (drain, the
 * edge proxy's headers) that need exact control of every message.
 */
import {
  createResponse,
  formatUri,
  parseMessage,
  serialize,
  type SipRequest,
  type SipResponse,
} from '../src/sip/message/index.js';
import type { TestGateway } from './harness.js';
import { inviteText, type RawSipClient } from './raw-sip.js';

export const plainOffer = (port: number, version = 1): string =>
  [
    'v=0',
    `o=- ${version} ${version} IN IP4 127.0.0.1`,
    's=-',
    'c=IN IP4 127.0.0.1',
    't=0 0',
    `m=audio ${port} RTP/AVP 0`,
    'a=rtpmap:0 PCMU/8000',
    '',
  ].join('\r\n');

export const isRequest =
  (method: string, callId?: string) =>
  (m: SipRequest | SipResponse): boolean =>
    m.type === 'request' && m.method === method && (callId === undefined || m.callId === callId);

export const isResponse =
  (status: number, method = 'INVITE', callId?: string) =>
  (m: SipRequest | SipResponse): boolean =>
    m.type === 'response' &&
    m.status === status &&
    m.cseq.method === method &&
    (callId === undefined || m.callId === callId);

/** A final response (≥ 200) to the INVITE of `callId`. */
export const isFinal =
  (callId: string) =>
  (m: SipRequest | SipResponse): boolean =>
    m.type === 'response' && m.status >= 200 && m.cseq.method === 'INVITE' && m.callId === callId;

/** The Reason text (the Parley code) of a message. */
export const reasonOf = (message: SipRequest | SipResponse): string | undefined =>
  /text="([^"]+)"/.exec(message.headers.get('reason') ?? '')?.[1];

let calls = 0;

/** The visitor's INVITE: a real call token and a plain RTP offer. */
export async function visitorInvite(
  gw: TestGateway,
  visitor: RawSipClient,
  headers: string[] = [],
  token?: string,
): Promise<{ text: string; callId: string }> {
  calls += 1;
  const callId = `raw-call-${visitor.port}-${calls}-${Date.now()}`;
  const text = inviteText({
    to: `sales@${gw.udp}`,
    port: visitor.port,
    callId,
    headers: [`Authorization: Bearer ${token ?? (await gw.token())}`, ...headers],
    sdp: plainOffer(4000),
  }).replace('Via: SIP/2.0/UDP 127.0.0.1:', `Via: SIP/2.0/UDP ${visitor.address}:`);
  return { text, callId };
}

/** Sends `response` (built from `request` as a UAS) back to the gateway. */
export function reply(
  client: RawSipClient,
  gw: TestGateway,
  request: SipRequest,
  status: number,
  options: { toTag?: string; headers?: [string, string][]; body?: string } = {},
): SipResponse {
  const response = createResponse(request, status, undefined, {
    ...(options.toTag !== undefined ? { toTag: options.toTag } : {}),
    headers: [
      ...(options.body !== undefined ? ([['Content-Type', 'application/sdp']] as const) : []),
      ...(options.headers ?? []),
    ],
    ...(options.body !== undefined ? { body: options.body } : {}),
  });
  client.send(gw.udp, serialize(response));
  return response;
}

/** The agent's phone answers the next INVITE it gets (200 with SDP). */
export async function agentAnswers(
  gw: TestGateway,
  agent: RawSipClient,
  timeoutMs = 5000,
): Promise<{ invite: SipRequest; ok: SipResponse }> {
  const seen = new Set(agent.received.map((r) => r.message));
  const invite = (await agent.waitFor(
    (m) => isRequest('INVITE')(m) && !seen.has(m),
    timeoutMs,
  )) as SipRequest;
  const contact: [string, string] = ['Contact', `<sip:agent@127.0.0.1:${agent.port}>`];
  const ok = reply(agent, gw, invite, 200, {
    toTag: `agt-${invite.callId.slice(-6)}`,
    headers: [contact],
    body: plainOffer(4002),
  });
  return { invite, ok };
}

/** The ACK for a 2xx (its own transaction, RFC 3261 §13.2.2.4). */
export function ackText(client: RawSipClient, ok: SipResponse): string {
  return [
    `ACK ${ok.contact ? formatUri(ok.contact.uri) : ''} SIP/2.0`,
    `Via: SIP/2.0/UDP ${client.address}:${client.port};branch=z9hG4bK-ack-${Date.now()};rport`,
    `From: ${ok.headers.get('from')}`,
    `To: ${ok.headers.get('to')}`,
    `Call-ID: ${ok.callId}`,
    `CSeq: ${ok.cseq.seq} ACK`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** `text` with the route set of the dialog `ok` made (the Record-Route reversed, RFC 3261 §12.1.2). */
export function routed(text: string, ok: SipResponse): string {
  const routes = ok.headers.getLines('record-route').reverse();
  if (routes.length === 0) return text;
  return text.replace('\r\nFrom:', `\r\n${routes.map((r) => `Route: ${r}`).join('\r\n')}\r\nFrom:`);
}

/** The CANCEL of the INVITE `invite` (its Request-URI, top Via, From, To, Call-ID and CSeq number: RFC 3261 §9.1). */
export function cancelText(invite: string): string {
  const request = parseMessage(Buffer.from(invite)) as SipRequest;
  return [
    `CANCEL ${request.requestUri} SIP/2.0`,
    `Via: ${request.headers.getLines('via')[0] ?? ''}`,
    `From: ${request.headers.get('from')}`,
    `To: ${request.headers.get('to')}`,
    `Call-ID: ${request.callId}`,
    `CSeq: ${request.cseq.seq} CANCEL`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** A request within the dialog of the 2xx `ok` to our INVITE (BYE, OPTIONS…). */
export function inDialogText(
  client: RawSipClient,
  ok: SipResponse,
  method: string,
  seq: number,
): string {
  return [
    `${method} ${ok.contact ? formatUri(ok.contact.uri) : ''} SIP/2.0`,
    `Via: SIP/2.0/UDP ${client.address}:${client.port};branch=z9hG4bK-${method.toLowerCase()}-${Date.now()};rport`,
    `From: ${ok.headers.get('from')}`,
    `To: ${ok.headers.get('to')}`,
    `Call-ID: ${ok.callId}`,
    `CSeq: ${seq} ${method}`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/** An OPTIONS outside any dialog (a proxy's probe). */
export function optionsText(client: RawSipClient, target: string, headers: string[] = []): string {
  calls += 1;
  return [
    `OPTIONS sip:${target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${client.address}:${client.port};branch=z9hG4bK-opt-${calls}-${Date.now()};rport`,
    `From: <sip:probe@${client.address}>;tag=p${calls}`,
    `To: <sip:${target}>`,
    `Call-ID: options-${calls}-${Date.now()}`,
    'CSeq: 1 OPTIONS',
    'Max-Forwards: 70',
    ...headers,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

/**
 * A visitor's call, answered by the agent and ACKed: the dialog's 2xx on each
 * side (the visitor's `ok` from the gateway, the gateway's INVITE to the agent).
 */
export async function answeredCall(
  gw: TestGateway,
  visitor: RawSipClient,
  agent: RawSipClient,
  headers: string[] = [],
): Promise<{ callId: string; ok: SipResponse; agentInvite: SipRequest; agentOk: SipResponse }> {
  const { text, callId } = await visitorInvite(gw, visitor, headers);
  visitor.send(gw.udp, text);
  const { invite: agentInvite, ok: agentOk } = await agentAnswers(gw, agent);
  const ok = (await visitor.waitFor(isFinal(callId), 5000)) as SipResponse;
  if (ok.status !== 200) throw new Error(`the call was refused ${ok.status} ${reasonOf(ok)}`);
  visitor.send(gw.udp, ackText(visitor, ok));
  await agent.waitFor(isRequest('ACK', agentInvite.callId));
  return { callId, ok, agentInvite, agentOk };
}
