/**
 * Calls between their authorisation and their end: which account, resident
 * and devices the authorisation allowed (what re-verification checks the
 * device's data against), the one-time tickets a resident app gets for a
 * right PIN, and the device that connected. An authorisation not re-verified
 * within `pendingSeconds` is forgotten (the call rang out or failed without
 * the call path saying so); a connected call stays until `forget`.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { DeviceTarget } from './decision.js';

export interface PendingCall {
  readonly tenant: string;
  readonly callId: string;
  readonly accountId: string | null;
  readonly residentId: string;
  readonly devices: readonly DeviceTarget[];
  readonly callerName: string | null;
  readonly expiresAt: number;
  /** The device re-verified and connected, once it is. */
  connectedDevice: string | null;
  readonly tickets: Map<string, { readonly ticket: string; readonly expiresAt: number }>;
}

export type TicketCheck = 'ok' | 'missing' | 'expired' | 'wrong';

export class PendingCalls {
  readonly #calls = new Map<string, PendingCall>();

  get size(): number {
    return this.#calls.size;
  }

  set(call: Omit<PendingCall, 'connectedDevice' | 'tickets'>): void {
    this.#calls.set(call.callId, { ...call, connectedDevice: null, tickets: new Map() });
  }

  /** The call, unless it expired unconnected (then it is dropped). */
  get(callId: string, now: number): PendingCall | undefined {
    const call = this.#calls.get(callId);
    if (call && call.connectedDevice === null && call.expiresAt <= now) {
      this.#calls.delete(callId);
      return undefined;
    }
    return call;
  }

  issueTicket(call: PendingCall, address: string, expiresAt: number): string {
    const ticket = randomBytes(18).toString('base64url');
    call.tickets.set(address, { ticket, expiresAt });
    return ticket;
  }

  /** Uses up the device's ticket when it is the one issued and still valid. */
  takeTicket(call: PendingCall, address: string, ticket: string, now: number): TicketCheck {
    const issued = call.tickets.get(address);
    if (!issued) return 'missing';
    const a = Buffer.from(issued.ticket);
    const b = Buffer.from(ticket);
    if (a.length !== b.length || !timingSafeEqual(a, b)) return 'wrong';
    call.tickets.delete(address);
    return issued.expiresAt > now ? 'ok' : 'expired';
  }

  delete(callId: string): boolean {
    return this.#calls.delete(callId);
  }

  /** Drops the unconnected calls whose time is up. */
  sweep(now: number): void {
    for (const [id, call] of this.#calls)
      if (call.connectedDevice === null && call.expiresAt <= now) this.#calls.delete(id);
  }

  clear(): void {
    this.#calls.clear();
  }
}
