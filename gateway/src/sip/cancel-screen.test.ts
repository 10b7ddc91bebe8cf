/**
 * The SBC's screen is told a CANCEL's call (`invite <Call-ID>;<From tag>`,
 * counted on that call's budget by sbc/source-limit.ts) only when it cancels
 * an INVITE still pending from the same client: same branch and sent-by (the
 * INVITE's server transaction), same Call-ID and From tag, same address.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { RawSipClient } from '../../test/raw-sip.js';
import { openTestStack, type TestStack } from '../calls/test-peers.js';

let open: { stack?: TestStack; clients: RawSipClient[] } = { clients: [] };
afterEach(async () => {
  for (const client of open.clients) client.close();
  await open.stack?.close();
  open = { clients: [] };
});

function request(
  method: 'INVITE' | 'CANCEL',
  o: { target: string; sentBy: string; branch: string; fromTag?: string; callId?: string },
): string {
  return [
    `${method} sip:sales@${o.target} SIP/2.0`,
    `Via: SIP/2.0/UDP ${o.sentBy};branch=${o.branch};rport`,
    `From: <sip:v@parley.test>;tag=${o.fromTag ?? 'f1'}`,
    `To: <sip:sales@parley.test>`,
    `Call-ID: ${o.callId ?? 'ringing-call'}`,
    `CSeq: 1 ${method}`,
    `Contact: <sip:v@${o.sentBy}>`,
    'Max-Forwards: 70',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
}

describe('a CANCEL before the SBC screen', () => {
  it('is given its call only when it matches a pending INVITE from the same client', async () => {
    const t = await openTestStack();
    const [visitor, elsewhere] = await Promise.all([
      RawSipClient.open('127.0.0.1'),
      RawSipClient.open('127.0.0.3'),
    ]);
    open = { stack: t, clients: [visitor, elsewhere] };
    const seen: { method: string; dialog: string | undefined }[] = [];
    let next: (() => void) | undefined;
    t.stack.screen((req, _flow, dialog) => {
      seen.push({ method: req.method, dialog });
      next?.();
      // CANCELs are dropped here: none reaches the transaction layer to cancel the INVITE.
      return req.method === 'CANCEL';
    });
    const screened = (client: RawSipClient, text: string) =>
      new Promise<void>((resolve) => {
        next = resolve;
        client.send(t.address, text);
      });
    const at = { target: t.address, sentBy: `127.0.0.1:${visitor.port}`, branch: 'z9hG4bK-c1' };
    const invited = t.nextInvite();
    await screened(visitor, request('INVITE', at));
    await invited; // pending: the stack's owner has not answered it

    await screened(elsewhere, request('CANCEL', at)); // same branch, another address
    await screened(visitor, request('CANCEL', { ...at, fromTag: 'f2' }));
    await screened(visitor, request('CANCEL', { ...at, callId: 'other-call' }));
    await screened(visitor, request('CANCEL', { ...at, branch: 'z9hG4bK-nothing' }));
    await screened(visitor, request('CANCEL', at));
    expect(seen).toEqual([
      { method: 'INVITE', dialog: undefined },
      { method: 'CANCEL', dialog: undefined },
      { method: 'CANCEL', dialog: undefined },
      { method: 'CANCEL', dialog: undefined },
      { method: 'CANCEL', dialog: undefined },
      { method: 'CANCEL', dialog: 'invite ringing-call;f1' },
    ]);
  });
});
