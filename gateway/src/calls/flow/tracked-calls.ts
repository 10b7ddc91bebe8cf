/**
 * The port through which a trunk call to a marketplace tracking number is
 * routed (S3, S8): before a DID's own flow runs, the marketplace is asked
 * whether an impression explains the call. Kept as a port so `calls/` does not
 * depend on the marketplace; `marketplace/tracked-calls.ts` implements it.
 */
import type { ErrorCode } from '@parley/shared/errors';
import type { FlowRef } from '../../flows/index.js';
import type { Call } from '../call.js';

export type TrackedRoute =
  /** The number is a listing's, but the listing cannot take calls now. */
  | { readonly kind: 'refuse'; readonly code: ErrorCode; readonly detail: string }
  /** Runs `flow` (a dial of the listing's destination) on the call; `attach` follows it for billing. */
  | { readonly kind: 'route'; readonly flow: FlowRef; attach(call: Call): void };

export interface TrackedCalls {
  /** Undefined: not a marketplace number (or no lease explains the call); the DID's flow runs. */
  route(query: {
    readonly called: string;
    readonly callerNumber: string | null;
    readonly at: number;
  }): TrackedRoute | undefined;
}
