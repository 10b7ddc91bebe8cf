/**
 * The live half of a device's active state: whether it is registered (its SIP
 * contacts, fed by the registrar) and which resident is signed in on it (a
 * resident app). In memory: registrations are refreshed by the devices within
 * their expiry and sign-ins end with the process, like desk sessions (a
 * resident signs in again after a gateway restart). Behind an interface, so a
 * cluster can share it (Redis) later.
 */

export interface DeviceContact {
  readonly uri: string;
  readonly expiresAt: number;
  /** The connection (WebSocket, TCP) the REGISTER came on, when it must be reused. */
  readonly flowId: string | undefined;
}

export interface SignIn {
  readonly residentId: string;
  readonly until: number;
}

export interface DevicePresence {
  setContacts(tenant: string, address: string, contacts: readonly DeviceContact[]): void;
  /** Contacts not yet expired. */
  contacts(tenant: string, address: string, now: number): readonly DeviceContact[];
  signIn(tenant: string, address: string, signIn: SignIn): void;
  signOut(tenant: string, address: string): void;
  /** The resident signed in on the device now, if any. */
  signedIn(tenant: string, address: string, now: number): SignIn | undefined;
  /** Forgets the device (deleted, new credential). */
  forget(tenant: string, address: string): void;
}

const key = (tenant: string, address: string) => `${tenant}\u0000${address}`;

export class MemoryDevicePresence implements DevicePresence {
  readonly #contacts = new Map<string, readonly DeviceContact[]>();
  readonly #signIns = new Map<string, SignIn>();

  setContacts(tenant: string, address: string, contacts: readonly DeviceContact[]): void {
    if (contacts.length === 0) this.#contacts.delete(key(tenant, address));
    else this.#contacts.set(key(tenant, address), [...contacts]);
  }

  contacts(tenant: string, address: string, now: number): readonly DeviceContact[] {
    return (this.#contacts.get(key(tenant, address)) ?? []).filter((c) => c.expiresAt > now);
  }

  signIn(tenant: string, address: string, signIn: SignIn): void {
    this.#signIns.set(key(tenant, address), signIn);
  }

  signOut(tenant: string, address: string): void {
    this.#signIns.delete(key(tenant, address));
  }

  signedIn(tenant: string, address: string, now: number): SignIn | undefined {
    const found = this.#signIns.get(key(tenant, address));
    if (found && found.until <= now) {
      this.#signIns.delete(key(tenant, address));
      return undefined;
    }
    return found;
  }

  forget(tenant: string, address: string): void {
    this.#contacts.delete(key(tenant, address));
    this.#signIns.delete(key(tenant, address));
  }
}
