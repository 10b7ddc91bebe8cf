/**
 * What the registrar and the resident device's API ask of a gated device,
 * none of it a decision: its digest secret by SIP username, its live
 * registrations (where a call rings it), the device credential check of the
 * device sign-in, and which resident is signed in on an app. Only devices of
 * gated tenants, in the gateway's realm, are known here.
 */
import { digestHa1 } from '../../sip/message/index.js';
import type { GatedStore } from '../store/index.js';
import type { DeviceContact, DevicePresence, SignIn } from './device-presence.js';

export interface DeviceAccessOptions {
  readonly store: GatedStore;
  readonly presence: DevicePresence;
  /** The digest realm device credentials are made in (the gateway's SIP domain). */
  readonly realm: string;
  readonly isGated: (tenant: string) => boolean;
  readonly now: () => number;
}

/** A device's digest secret for the registrar. */
export interface DeviceSipCredentials {
  agentId: string;
  ha1: { MD5: string; 'SHA-256': string };
  algorithms: readonly ('SHA-256' | 'MD5')[] | undefined;
}

export class DeviceAccess {
  readonly #o: DeviceAccessOptions;
  /**
   * The device each SIP username authenticated as here, kept while it has
   * bindings: the registrar's binding changes are applied at once and in
   * its order (a store lookup per change would take a round trip to
   * PostgreSQL, and could finish out of order). Every binding comes from a
   * REGISTER whose credentials were looked up just before.
   */
  readonly #registered = new Map<string, { tenant: string; address: string }>();
  /** The SIP username last authenticated for each device (`tenant\naddress`). */
  readonly #userOf = new Map<string, string>();

  constructor(options: DeviceAccessOptions) {
    this.#o = options;
  }

  /**
   * A device's digest secret by its SIP username. An app (sip.js) answers
   * MD5 only (widget/src/desk/sipjs-phone-stack.ts); a SIP phone gets the
   * gateway's `sip.digestAlgorithms`.
   */
  async sipCredentials(username: string): Promise<DeviceSipCredentials | undefined> {
    const device = await this.#o.store.devices.bySipUser(username);
    if (!device || !this.#o.isGated(device.tenant) || device.realm !== this.#o.realm) {
      this.#registered.delete(username);
      return undefined;
    }
    // A device made again at the same address has a new SIP username: the old one's expiry
    // must not clear the new one's contacts.
    const key = `${device.tenant}\n${device.address}`;
    const previous = this.#userOf.get(key);
    if (previous !== undefined && previous !== username) this.#registered.delete(previous);
    this.#userOf.set(key, username);
    this.#registered.set(username, { tenant: device.tenant, address: device.address });
    return {
      agentId: username,
      ha1: device.ha1,
      algorithms: device.kind === 'app' ? ['MD5'] : undefined,
    };
  }

  /** A device's bindings changed (registered, refreshed, expired). */
  bindings(sipUser: string, contacts: readonly DeviceContact[]): void {
    const device = this.#registered.get(sipUser);
    if (!device) return;
    this.#o.presence.setContacts(device.tenant, device.address, contacts);
    if (contacts.length > 0) return;
    this.#registered.delete(sipUser);
    const key = `${device.tenant}\n${device.address}`;
    if (this.#userOf.get(key) === sipUser) this.#userOf.delete(key);
  }

  /** Where to ring a device now (its live registrations). */
  contacts(tenant: string, address: string): readonly DeviceContact[] {
    return this.#o.presence.contacts(tenant, address, this.#o.now());
  }

  /** Whether a device credential is right (the device sign-in, like the desk's against H(A1)). */
  async credentialMatches(
    tenant: string,
    address: string,
    secret: string,
  ): Promise<{ sipUser: string; stamp: string } | undefined> {
    const device = await this.#o.store.devices.get(tenant, address);
    // Hashed whether or not the device exists: the answer takes as long either way.
    const ha1 = digestHa1(device?.sipUser ?? 'nobody', this.#o.realm, secret, 'SHA-256');
    if (!device || device.realm !== this.#o.realm || !this.#o.isGated(tenant)) return undefined;
    return ha1 === device.ha1['SHA-256']
      ? { sipUser: device.sipUser, stamp: device.credentialStamp }
      : undefined;
  }

  /** The resident signed in on an app now, if any. */
  signedIn(tenant: string, device: string): SignIn | undefined {
    return this.#o.presence.signedIn(tenant, device, this.#o.now());
  }

  signOut(tenant: string, device: string): void {
    this.#o.presence.signOut(tenant, device);
  }
}
