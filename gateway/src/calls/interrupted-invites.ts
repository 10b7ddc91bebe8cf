/**
 * INVITEs a stopped gateway left ringing (a crash, a kill -9 while a phone
 * rang): their client transactions died with the process, so nothing would
 * ever CANCEL them and the phone would ring until its own timer. What a
 * CANCEL needs is kept while the INVITE is pending ({@link storedInvite}), and
 * the next start sends it (RFC 3261 §9.1: same Request-URI, Call-ID, From,
 * To, CSeq number and top Via as the INVITE, so the phone matches it to the
 * ringing INVITE), with `Reason: SIP;cause=503;text="gateway_restart"`.
 *
 * The phone then ends the INVITE with a 487 that no transaction of this
 * process expects: it arrives as a stray response and gets its ACK here
 * (§17.1.1.3, the non-2xx ACK reuses the INVITE's Via), or the phone goes on
 * retransmitting it for 32 s. A phone answered in the race (a 2xx) gets its
 * ACK and a BYE. A browser's (WebSocket) INVITE went with its connection.
 */
import type { ErrorCode } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import { reasonHeader } from '../sbc/refusal.js';
import { Dialog, SipRequest, type SipResponse, type SipStack, type Target } from '../sip/index.js';
import { ackForNon2xx, buildCancel } from '../sip/transaction/index.js';

/** What a CANCEL (and the ACK of its 487) of a pending INVITE needs. */
export interface StoredInvite {
  /** Which leg (`agent:<id>`, `advertiser`). */
  readonly leg: string;
  readonly requestUri: string;
  /** The INVITE's top Via (the branch the phone knows it by). */
  readonly via: string;
  readonly from: string;
  readonly to: string;
  readonly callId: string;
  readonly cseq: number;
  readonly route: readonly string[];
  /** Where the INVITE was sent. */
  readonly target: { readonly protocol: string; readonly address: string; readonly port: number };
}

/** The pending INVITE as stored, once sent (undefined before: it has no Via yet). */
export function storedInvite(
  leg: string,
  invite: SipRequest,
  target: Target,
): StoredInvite | undefined {
  const via = invite.headers.getAll('via')[0];
  if (via === undefined) return undefined;
  return {
    leg,
    requestUri: invite.requestUri,
    via,
    from: invite.headers.get('from') ?? '',
    to: invite.headers.get('to') ?? '',
    callId: invite.callId,
    cseq: invite.cseq.seq,
    route: invite.headers.getAll('route'),
    target: { protocol: target.protocol, address: target.address, port: target.port },
  };
}

/** How long a cancelled INVITE's final response is awaited (Timer B, 64·T1 at T1 = 500 ms). */
const FINAL_WAIT_MS = 32_000;

/**
 * Sends the CANCELs; answers the phones' final responses (ACK, and BYE after
 * a 2xx) for a while. Returns how many CANCELs went out.
 */
export function cancelInterrupted(
  stack: SipStack,
  invites: readonly StoredInvite[],
  logger: Logger,
  reason: Extract<ErrorCode, 'gateway_restart' | 'gateway_lost'> = 'gateway_restart',
): number {
  const log = logger.child({ module: 'calls' });
  const pending = new Map<string, { invite: SipRequest; target: Target; stored: StoredInvite }>();
  for (const stored of invites) {
    if (stored.target.protocol === 'WS' || stored.target.protocol === 'WSS') continue;
    try {
      const invite = new SipRequest({
        method: 'INVITE',
        requestUri: stored.requestUri,
        headers: [
          ['Via', stored.via],
          ...stored.route.map((r): [string, string] => ['Route', r]),
          ['From', stored.from],
          ['To', stored.to],
          ['Call-ID', stored.callId],
          ['CSeq', `${stored.cseq} INVITE`],
        ],
      });
      const target = stored.target as Target;
      const cancel = buildCancel(invite);
      cancel.headers.append(...reasonHeader(reason));
      const tx = stack.transactions.cancelOrphan(cancel, target);
      const context = { leg: stored.leg, sipCallId: stored.callId };
      tx.on('response', (response) => {
        if (response.status >= 200)
          log.info({ ...context, status: response.status }, 'interrupted INVITE cancelled');
      });
      tx.on('timeout', () => log.info(context, 'interrupted INVITE: no answer to the CANCEL'));
      tx.on('transportError', (error) =>
        log.info({ ...context, err: error }, 'interrupted INVITE could not be reached'),
      );
      pending.set(`${stored.callId} ${stored.cseq}`, { invite, target, stored });
    } catch (error) {
      log.warn({ leg: stored.leg, err: error }, 'stored INVITE unusable: no CANCEL');
    }
  }
  if (pending.size === 0) return 0;
  const onStray = (response: SipResponse) => {
    if (response.cseq.method !== 'INVITE' || response.status < 200) return;
    const key = `${response.callId} ${response.cseq.seq}`;
    const entry = pending.get(key);
    if (!entry) return;
    if (response.status >= 300) {
      // Every retransmission of the final gets its ACK (§17.1.1.2, state Completed).
      void stack.transactions.sendAck(ackForNon2xx(entry.invite, response), entry.target);
      return;
    }
    // Answered before the CANCEL arrived: ACK it, then hang up (§15).
    pending.delete(key);
    const contact = stack.transport.contactUri(entry.target.protocol, 'parley');
    const dialog = Dialog.asUac(entry.invite, response, undefined, `<${contact}>`);
    void stack.transactions.sendAck(dialog.createRequest('ACK'), dialog.target());
    stack.transactions.request(
      dialog.createRequest('BYE', { headers: [reasonHeader(reason)] }),
      dialog.target(),
    );
    log.info({ leg: entry.stored.leg }, 'interrupted INVITE answered in the race: BYE sent');
  };
  stack.transactions.on('strayResponse', onStray);
  setTimeout(() => stack.transactions.off('strayResponse', onStray), FINAL_WAIT_MS).unref();
  log.warn({ legs: pending.size, reason }, 'sent CANCEL to the ringing legs of interrupted calls');
  return pending.size;
}
