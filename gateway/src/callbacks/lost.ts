/**
 * A lost gateway's callbacks (`storage.kind: postgres` with Redis, the
 * sweeper of `cluster/lost-gateways.ts`): a survivor ends those the lost one
 * had in progress (charged once when connected, a BYE to their answered
 * legs, a CANCEL to ringing INVITEs), and takes its scheduled ones over, so
 * they run at their time here. Several survivors may sweep the same gateway:
 * each record is ended by one (`saveIf`), each scheduled one taken by one.
 */
import { cancelInterrupted, hangUpInterrupted } from '../calls/index.js';
import type { Logger } from '../observability/index.js';
import type { SipStack } from '../sip/index.js';
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
  return {
    name: 'callbacks',
    openOwners: () => rows.openOwners(),
    async recoverLost(owner) {
      const { interrupted, ringing } = await service.closeInterrupted(
        await rows.inProgressOf(owner),
      );
      hangUpInterrupted(stack, interrupted, logger, 'gateway_lost');
      cancelInterrupted(stack, ringing, logger, 'gateway_lost');
      const adopted = await rows.adopt(owner);
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
