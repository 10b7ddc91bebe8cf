/**
 * A lost gateway's callbacks (`storage.kind: postgres` with Redis, the
 * sweeper of `cluster/lost-gateways.ts`): a survivor ends those the lost one
 * had in progress (charged once when connected, a BYE to their answered
 * legs, a CANCEL to ringing INVITEs), and takes its scheduled ones over, so
 * they run at their time here. Several survivors may sweep the same gateway:
 * each record is ended by one (`saveIf`), each scheduled one taken by one.
 * A failure is tried again at the next sweep, once what was done is answered:
 * the legs of the records ended before it are hung up; a take-over whose
 * answer is lost (the rows may be this gateway's now, which no sweep of the
 * lost one would find again) is learnt from this gateway's scheduled rows
 * its scheduler lacks, read again at once and, failing, at each sweep until read.
 */
import { cancelInterrupted, hangUpInterrupted } from '../calls/index.js';
import type { Logger } from '../observability/index.js';
import type { SipStack } from '../sip/index.js';
import type { CallbackRecord } from './model.js';
import type { CallbackService } from './service.js';
import type { SharedCallbackRows } from './store.js';

export interface LostCallbacks {
  readonly name: string;
  openOwners(): Promise<string[]>;
  recoverLost(owner: string): Promise<number>;
}

export function lostCallbacks(deps: {
  rows: SharedCallbackRows;
  service: CallbackService;
  stack: SipStack;
  logger: Logger;
}): LostCallbacks {
  const { rows, service, stack, logger } = deps;
  /** A take-over whose answer was lost and whose rows were not read again yet. */
  let unsure = false;
  const reread = async (): Promise<CallbackRecord[]> => {
    const found = await service.scheduleMissing();
    unsure = false;
    if (found.length > 0)
      logger.warn({ adopted: found.length }, 'took over callbacks whose take-over answer was lost');
    return found;
  };
  return {
    name: 'callbacks',
    async openOwners() {
      if (unsure) await reread();
      return rows.openOwners();
    },
    async recoverLost(owner) {
      const closed = await service.closeInterrupted(await rows.inProgressOf(owner));
      const { interrupted, ringing } = closed;
      hangUpInterrupted(stack, interrupted, logger, 'gateway_lost');
      cancelInterrupted(stack, ringing, logger, 'gateway_lost');
      if ('error' in closed) throw closed.error;
      let adopted: CallbackRecord[];
      try {
        adopted = await rows.adopt(owner);
      } catch (error) {
        unsure = true;
        await reread().catch(() => undefined);
        throw error;
      }
      for (const record of adopted) service.schedule(record);
      if (interrupted.length + adopted.length > 0)
        logger.warn(
          { instance: owner, interrupted: interrupted.length, adopted: adopted.length },
          'took over the callbacks of a gateway whose lease lapsed',
        );
      return interrupted.length + adopted.length;
    },
  };
}
