/**
 * After a stop that ended no call (a crash, a kill -9), the next start closes
 * the records left open (`CallStore.closeInterrupted`) and ends what can still
 * be reached of their answered legs: a BYE in each stored dialog (RFC 3261
 * §15.1.1), with `Reason: SIP;cause=503;text="gateway_restart"`, so an agent's
 * phone does not stay in a call no one is on. A browser's leg went with its
 * WebSocket (a browser accepts no connection, RFC 7118 §5): nothing to send.
 * A surviving gateway of a cluster does the same for a dead one's calls, with
 * `gateway_lost` (`cluster/lost-gateways.ts`).
 */
import type { ErrorCode } from '@parley/shared/errors';
import type { Logger } from '../observability/index.js';
import { reasonHeader } from '../sbc/refusal.js';
import { Dialog, parseNameAddr, type SipStack, type Target } from '../sip/index.js';
import type { InterruptedCall, StoredDialog } from '../storage/index.js';

/** Sends the BYEs; returns how many went out. Their answers are logged. */
export function hangUpInterrupted(
  stack: SipStack,
  calls: readonly InterruptedCall[],
  logger: Logger,
  reason: Extract<ErrorCode, 'gateway_restart' | 'gateway_lost'> = 'gateway_restart',
): number {
  const log = logger.child({ module: 'calls' });
  let sent = 0;
  for (const call of calls) {
    for (const stored of call.dialogs) {
      const context = { callId: call.id, leg: stored.leg, sipCallId: stored.callId };
      const protocol = stored.transport?.protocol;
      if (protocol === 'WS' || protocol === 'WSS') {
        log.info(context, 'interrupted leg was a WebSocket: it cannot be reached');
        continue;
      }
      try {
        const dialog = restore(stored);
        const bye = dialog.createRequest('BYE', { headers: [reasonHeader(reason)] });
        const tx = stack.transactions.request(bye, targetOf(stored, dialog));
        tx.on('response', (response) => {
          if (response.status >= 200)
            log.info({ ...context, status: response.status }, 'interrupted leg hung up');
        });
        tx.on('timeout', () => log.info(context, 'interrupted leg did not answer the BYE'));
        tx.on('transportError', (error) =>
          log.info({ ...context, err: error }, 'interrupted leg could not be reached'),
        );
        sent += 1;
      } catch (error) {
        log.warn({ ...context, err: error }, 'stored dialog unusable: no BYE');
      }
    }
  }
  if (sent > 0) log.warn({ legs: sent, reason }, 'sent BYE to the legs of interrupted calls');
  return sent;
}

function restore(stored: StoredDialog): Dialog {
  return new Dialog({
    callId: stored.callId,
    localTag: stored.localTag,
    remoteTag: stored.remoteTag,
    local: parseNameAddr(stored.local),
    remote: parseNameAddr(stored.remote),
    localSeq: stored.localSeq,
    remoteSeq: undefined,
    remoteTarget: stored.remoteTarget,
    routeSet: stored.routeSet,
    flow: undefined,
    localContact: stored.localContact,
  });
}

/**
 * Where the BYE goes: through the route set when a proxy record-routed; a UDP
 * party where its packets came from (NAT-friendly, as the dialog did); else
 * its remote target (a TCP party's own listening address, not the closed
 * connection's port).
 */
function targetOf(stored: StoredDialog, dialog: Dialog): Target {
  const transport = stored.transport;
  if (stored.routeSet.length === 0 && transport?.protocol === 'UDP')
    return { protocol: 'UDP', address: transport.address, port: transport.port };
  return dialog.target();
}
