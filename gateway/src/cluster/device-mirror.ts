import type { DeviceContact, SignIn } from '../gated/devices/device-presence.js';

/**
 * The cluster's device presence as one gateway holds it (`device-sync.ts`
 * keeps it in step through Redis): each device's contacts by the gateway
 * whose registrar holds them, and the resident signed in on it with the
 * gateway it signed in through. Reads are in memory, so the Gate's checks and
 * a call's ringing take no round trip.
 */
export interface SharedSignIn extends SignIn {
  /** The gateway the resident signed in through. */
  readonly by: string;
  /** When (epoch ms; the gateways' clocks agree). */
  readonly at: number;
}

interface Entry {
  readonly tenant: string;
  readonly address: string;
  /** Contacts by instance; this gateway's own carry their flow. */
  readonly contacts: Map<string, readonly DeviceContact[]>;
  /** When each instance's contacts were written (epoch ms; 0 unknown). */
  readonly contactsAt: Map<string, number>;
  signIn: SharedSignIn | undefined;
}

export const deviceKey = (tenant: string, address: string) => `${tenant}\u0000${address}`;

export class DeviceMirror {
  readonly instanceId: string;
  readonly #entries = new Map<string, Entry>();

  constructor(instanceId: string) {
    this.instanceId = instanceId;
  }

  /**
   * A gateway's contacts for the device (this one's by default), written at
   * `at` (a later forget removes them); none removes them.
   */
  setContacts(
    tenant: string,
    address: string,
    contacts: readonly DeviceContact[],
    instance = this.instanceId,
    at = 0,
  ): void {
    const entry = this.#entry(tenant, address, contacts.length > 0);
    if (!entry) return;
    if (contacts.length > 0) {
      entry.contacts.set(instance, [...contacts]);
      entry.contactsAt.set(instance, at);
    } else {
      entry.contacts.delete(instance);
      entry.contactsAt.delete(instance);
    }
    this.#drop(entry);
  }

  /**
   * Where to ring the device now: this gateway's contacts first (they carry
   * their connection), then the others', a URI listed once.
   */
  contacts(tenant: string, address: string, now: number): readonly DeviceContact[] {
    const entry = this.#entries.get(deviceKey(tenant, address));
    if (!entry) return [];
    const own = entry.contacts.get(this.instanceId) ?? [];
    const others = [...entry.contacts].filter(([i]) => i !== this.instanceId).map(([, c]) => c);
    const seen = new Set<string>();
    const live: DeviceContact[] = [];
    for (const c of [own, ...others].flat()) {
      if (c.expiresAt <= now || seen.has(c.uri)) continue;
      seen.add(c.uri);
      live.push(c);
    }
    return live;
  }

  setSignIn(tenant: string, address: string, signIn: SharedSignIn | undefined): void {
    const entry = this.#entry(tenant, address, signIn !== undefined);
    if (!entry) return;
    entry.signIn = signIn;
    this.#drop(entry);
  }

  signedIn(tenant: string, address: string, now: number): SharedSignIn | undefined {
    const entry = this.#entries.get(deviceKey(tenant, address));
    const found = entry?.signIn;
    if (!entry || !found) return undefined;
    if (found.until > now) return found;
    entry.signIn = undefined;
    this.#drop(entry);
    return undefined;
  }

  /**
   * Every gateway's contacts and the sign-in gone (the device deleted, a new
   * credential); with `at`, only those written before it (a forget made while
   * Redis was away, told once it is back, spares a registration made since).
   */
  forget(tenant: string, address: string, at?: number): void {
    const entry = this.#entries.get(deviceKey(tenant, address));
    if (!entry) return;
    if (at === undefined) {
      this.#entries.delete(deviceKey(tenant, address));
      return;
    }
    for (const [instance, written] of [...entry.contactsAt])
      if (written < at) this.setContacts(tenant, address, [], instance);
    if (entry.signIn && entry.signIn.at < at) entry.signIn = undefined;
    this.#drop(entry);
  }

  /**
   * Replaces what the other gateways told with what Redis holds (`devices`:
   * each device's contacts by instance, its sign-in): a forget, a sign-out or
   * a registration's end missed while Redis was away is not kept. This
   * gateway's own contacts stay (its registrar knows them better), and so
   * does a sign-in made here newer than Redis's (its write was lost) and
   * than a sign-out there. A field `told` (a message about it applied since
   * the read was sent: `contacts:<instance>` or `signIn`) keeps what is held.
   */
  replaceOthers(
    devices: readonly {
      tenant: string;
      address: string;
      contacts: ReadonlyMap<string, readonly DeviceContact[]>;
      /** When each instance's contacts were written (0 when not known). */
      contactsAt: ReadonlyMap<string, number>;
      signIn: SharedSignIn | undefined;
      /** When the resident was last signed out (0 none). */
      signedOutAt: number;
    }[],
    told: (tenant: string, address: string, field: string) => boolean = () => false,
    /**
     * Whether `instance` has written all it owns into the Redis read: a field
     * of one that has not is kept when missing (not written yet, not removed).
     */
    whole: (instance: string) => boolean = () => true,
  ): void {
    const ownSignIns = this.ownSignIns();
    for (const entry of [...this.#entries.values()]) {
      const { tenant, address } = entry;
      for (const instance of [...entry.contacts.keys()])
        if (
          instance !== this.instanceId &&
          whole(instance) &&
          !told(tenant, address, `contacts:${instance}`)
        )
          this.setContacts(tenant, address, [], instance);
      if (!told(tenant, address, 'signIn') && (!entry.signIn || whole(entry.signIn.by)))
        entry.signIn = undefined;
      this.#drop(entry);
    }
    const signedOut = new Map<string, number>();
    for (const d of devices) {
      signedOut.set(deviceKey(d.tenant, d.address), d.signedOutAt);
      for (const [instance, contacts] of d.contacts)
        if (instance !== this.instanceId && !told(d.tenant, d.address, `contacts:${instance}`))
          this.setContacts(d.tenant, d.address, contacts, instance, d.contactsAt.get(instance));
      if (d.signIn && !told(d.tenant, d.address, 'signIn'))
        this.setSignIn(d.tenant, d.address, d.signIn);
    }
    for (const o of ownSignIns) {
      const key = deviceKey(o.tenant, o.address);
      const held = this.#entries.get(key)?.signIn;
      if ((!held || o.signIn.at > held.at) && o.signIn.at >= (signedOut.get(key) ?? 0))
        this.setSignIn(o.tenant, o.address, o.signIn);
    }
  }

  /** This gateway's contacts, with when they were written: what it writes anew when Redis is back. */
  ownContacts(): {
    tenant: string;
    address: string;
    contacts: readonly DeviceContact[];
    at: number;
  }[] {
    return [...this.#entries.values()].flatMap((e) => {
      const contacts = e.contacts.get(this.instanceId);
      const at = e.contactsAt.get(this.instanceId) ?? 0;
      return contacts ? [{ tenant: e.tenant, address: e.address, contacts, at }] : [];
    });
  }

  /** The sign-ins made through this gateway (written anew too). */
  ownSignIns(): { tenant: string; address: string; signIn: SharedSignIn }[] {
    return [...this.#entries.values()].flatMap((e) =>
      e.signIn?.by === this.instanceId
        ? [{ tenant: e.tenant, address: e.address, signIn: e.signIn }]
        : [],
    );
  }

  /** How many devices are held (tests). */
  get size(): number {
    return this.#entries.size;
  }

  #entry(tenant: string, address: string, create: boolean): Entry | undefined {
    const key = deviceKey(tenant, address);
    let entry = this.#entries.get(key);
    if (!entry && create) {
      entry = { tenant, address, contacts: new Map(), contactsAt: new Map(), signIn: undefined };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #drop(entry: Entry): void {
    if (entry.contacts.size === 0 && !entry.signIn)
      this.#entries.delete(deviceKey(entry.tenant, entry.address));
  }
}
