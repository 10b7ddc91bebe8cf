/**
 * The port through which calls to the marketplace are routed (S3, S8): a
 * trunk call to a tracking number (before a DID's own flow runs, the
 * marketplace is asked whether an impression explains the call) and a
 * visitor's web call to a listing's reference (`sip:listing.<id>@…`). Kept as
 * a port so `calls/` does not depend on the marketplace;
 * `marketplace/tracked-calls.ts` implements it.
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
  }): Promise<TrackedRoute | undefined>;
  /**
   * A visitor's web call to a listing (`<parley-call listing impression>`).
   * Undefined: no such listing (or not of `tenant`).
   */
  web(query: {
    readonly tenant: string;
    readonly listing: string;
    /** The impression the visitor named (`X-Parley-Impression`), checked by the marketplace. */
    readonly impression: string | undefined;
    /** The visitor's device id (the token's private claim `deviceId`), when known. */
    readonly deviceId: string | undefined;
    readonly at: number;
  }): Promise<WebRoute | undefined>;
}

/** A web call's route: the trunk route, plus the queue the call record names (a queue destination). */
export type WebRoute =
  | Extract<TrackedRoute, { kind: 'refuse' }>
  | (Extract<TrackedRoute, { kind: 'route' }> & { readonly queue: string | undefined });
