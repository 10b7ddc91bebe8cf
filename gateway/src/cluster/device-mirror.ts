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
  signIn: SharedSignIn | undefined;
}

export const deviceKey = (tenant: string, address: string) => `${tenant}\u0000${address}`;

export class DeviceMirror {
  readonly instanceId: string;
  readonly #entries = new Map<string, Entry>();

  constructor(instanceId: string) {
    this.instanceId = instanceId;
  }

  /** A gateway's contacts for the device (this one's by default); none removes them. */
  setContacts(
    tenant: string,
    address: string,
    contacts: readonly DeviceContact[],
    instance = this.instanceId,
  ): void {
    const entry = this.#entry(tenant, address, contacts.length > 0);
    if (!entry) return;
    if (contacts.length > 0) entry.contacts.set(instance, [...contacts]);
    else entry.contacts.delete(instance);
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

  /** Every gateway's contacts and the sign-in gone (the device deleted, a new credential). */
  forget(tenant: string, address: string): void {
    this.#entries.delete(deviceKey(tenant, address));
  }

  /**
   * Replaces what the other gateways told with what Redis holds (`devices`:
   * each device's contacts by instance, its sign-in): a forget, a sign-out or
   * a registration's end missed while Redis was away is not kept. This
   * gateway's own contacts stay (its registrar knows them better), and so
   * does a sign-in made here newer than Redis's (its write was lost).
   */
  replaceOthers(
    devices: readonly {
      tenant: string;
      address: string;
      contacts: ReadonlyMap<string, readonly DeviceContact[]>;
      signIn: SharedSignIn | undefined;
    }[],
  ): void {
    const ownSignIns = new Map(this.ownSignIns().map((o) => [deviceKey(o.tenant, o.address), o]));
    for (const entry of [...this.#entries.values()]) {
      for (const instance of [...entry.contacts.keys()])
        if (instance !== this.instanceId) entry.contacts.delete(instance);
      entry.signIn = undefined;
      this.#drop(entry);
    }
    for (const d of devices) {
      for (const [instance, contacts] of d.contacts)
        if (instance !== this.instanceId) this.setContacts(d.tenant, d.address, contacts, instance);
      if (d.signIn) this.setSignIn(d.tenant, d.address, d.signIn);
    }
    for (const o of ownSignIns.values()) {
      const held = this.#entries.get(deviceKey(o.tenant, o.address))?.signIn;
      if (!held || o.signIn.at > held.at) this.setSignIn(o.tenant, o.address, o.signIn);
    }
  }

  /** This gateway's contacts: what it writes to Redis anew when Redis is back. */
  ownContacts(): { tenant: string; address: string; contacts: readonly DeviceContact[] }[] {
    return [...this.#entries.values()].flatMap((e) => {
      const contacts = e.contacts.get(this.instanceId);
      return contacts ? [{ tenant: e.tenant, address: e.address, contacts }] : [];
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
      entry = { tenant, address, contacts: new Map(), signIn: undefined };
      this.#entries.set(key, entry);
    }
    return entry;
  }

  #drop(entry: Entry): void {
    if (entry.contacts.size === 0 && !entry.signIn)
      this.#entries.delete(deviceKey(entry.tenant, entry.address));
  }
}
