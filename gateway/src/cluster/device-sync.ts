import type { ChainableCommander } from 'ioredis';
import type { DeviceContact, DevicePresence, SignIn } from '../gated/devices/device-presence.js';
import type { Logger } from '../observability/index.js';
import { deviceKey, DeviceMirror, type SharedSignIn } from './device-mirror.js';
import {
  type DeviceMessage,
  FORGET,
  LOAD,
  messageSchema,
  parseDevices,
  remote,
  SIGN_IN,
  SIGN_OUT,
} from './device-wire.js';
import { replies, type RedisLink } from './redis-link.js';
import { WriteRetries } from './retries.js';
import { WrittenMarks } from './written-marks.js';

/**
 * Gated residents' devices shared between gateways: a device (a SIP phone, a
 * resident app) registered through gateway A is registered for a gated call
 * that lands on gateway B, and a resident's sign-in on an app through A holds
 * on B, as agents' registrations do (`agent-sync.ts`).
 *
 * Each device has a hash `device:<tenant>:<address>` (both URI-encoded):
 * fields `contacts:<instance>` (the contacts that gateway's registrar holds,
 * with their expiry and when written), `signIn` (`{residentId, until, by, at}`)
 * and `signedOut` (`{at}`); the hash
 * expires with the last of them, and the sorted set `device-index` lists
 * the hashes by that time. Each change is written and published on the `devices`
 * channel; the others apply it to their mirror, from which every read is
 * answered (no round trip in a call's path). A forget (the device deleted, a
 * new credential) removes what was written before it: every gateway drops the
 * device's contacts and sign-in of before. Sign-ins, sign-outs and forgets
 * compare times (`device-wire.ts`), so one written again after an outage
 * never undoes a later one made elsewhere. On start a gateway reads every device's hash in one script.
 * When Redis comes back it first writes its own contacts and sign-ins anew
 * (a Redis restarted empty lost them), and the removals whose write failed
 * meanwhile (a forget, a sign-out, a device's last contact here gone: a
 * Redis that kept its data, or came back from its dump, still holds them),
 * then reads every hash again. A remote
 * contact has no transport flow: the gateway sends to its URI
 * (docs/scaling.md).
 */

/** A device whose change could not be written (Redis away): what to write again. */
interface Unsent {
  readonly tenant: string;
  readonly address: string;
  /** Forgotten here then (its hash to delete). */
  forgotAt?: number;
  /** Signed out here then. */
  signedOutAt?: number;
}

export class RedisDevicePresence implements DevicePresence {
  readonly #redis: RedisLink;
  readonly #mirror: DeviceMirror;
  readonly #instance: string;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #channel: string;
  readonly #index: string;
  readonly #onUp = () => void this.#resync();
  /** By `deviceKey`: the changes made here whose write failed. */
  readonly #unsent = new Map<string, Unsent>();
  /** A write failed (Redis up or down): this gateway's state and removals written again until they land. */
  readonly #retries: WriteRetries<'unsent'>;
  /** Whose fields are all written in this Redis: only their absence removes what they told here. */
  readonly #marks: WrittenMarks;
  /** Counts the messages applied: a read keeps what a message told after the read was sent. */
  #heard = 0;
  /** `<deviceKey>\n<field>` (`*` a forget) → the value of `#heard` when its last message was applied. */
  readonly #heardAt = new Map<string, number>();
  #started = false;
  #closed = false;

  constructor(deps: { redis: RedisLink; instanceId: string; logger: Logger; now: () => number }) {
    this.#redis = deps.redis;
    this.#instance = deps.instanceId;
    this.#mirror = new DeviceMirror(deps.instanceId);
    this.#log = deps.logger.child({ module: 'device-sync' });
    this.#now = deps.now;
    this.#channel = this.#redis.key('devices');
    this.#index = this.#redis.key('device-index');
    this.#redis.on('up', this.#onUp);
    this.#retries = new WriteRetries(this.#redis, 'devices', () => this.#rewrite());
    this.#marks = new WrittenMarks(this.#redis, {
      store: 'devices',
      instanceId: this.#instance,
      channel: this.#channel,
    });
  }

  /** Subscribes, then reads what the other gateways wrote before this one started. */
  async start(): Promise<void> {
    await this.#redis.listen(
      this.#channel,
      (text) => this.#received(text),
      'device changes',
      () => void this.#resync(),
    );
    // What this instance wrote before is its own again (or there was nothing): whole.
    if (await this.#load(true)) await this.#marks.mark();
    this.#started = true;
  }

  close(): void {
    this.#closed = true;
    this.#redis.off('up', this.#onUp);
    this.#retries.close();
  }

  setContacts(tenant: string, address: string, contacts: readonly DeviceContact[]): void {
    const at = this.#now();
    this.#mirror.setContacts(tenant, address, contacts, this.#instance, at);
    void this.#writeContacts(tenant, address, contacts, at);
  }

  contacts(tenant: string, address: string, now: number): readonly DeviceContact[] {
    return this.#mirror.contacts(tenant, address, now);
  }

  signIn(tenant: string, address: string, signIn: SignIn): void {
    const shared = { ...signIn, by: this.#instance, at: this.#now() };
    this.#mirror.setSignIn(tenant, address, shared);
    void this.#writeSignIn(tenant, address, shared);
  }

  signOut(tenant: string, address: string): void {
    this.#mirror.setSignIn(tenant, address, undefined);
    void this.#writeSignOut(tenant, address, this.#now());
  }

  signedIn(tenant: string, address: string, now: number): SignIn | undefined {
    const found = this.#mirror.signedIn(tenant, address, now);
    return found && { residentId: found.residentId, until: found.until };
  }

  forget(tenant: string, address: string): void {
    this.#mirror.forget(tenant, address);
    void this.#writeForget(tenant, address, this.#now());
  }

  /**
   * Redis is back (the command connection, or the channel subscribed again):
   * this gateway's own state anew and the removals it could not write, then
   * what the others wrote. Whichever order the gateways come back in, each
   * change is either in the hashes a gateway reads once subscribed again or
   * in a message it hears after.
   */
  async #resync(): Promise<void> {
    if (!this.#started || this.#closed) return;
    await this.#rewrite();
    await this.#load(false);
  }

  /**
   * This gateway's own contacts and sign-ins anew, and the removals whose
   * write failed: when Redis is back, and as the retry of a write that failed
   * while it stayed up (`retries.ts`).
   */
  async #rewrite(): Promise<void> {
    await this.#writeOwn();
    // Whole once nothing failed (else the retry of what failed marks it).
    if (this.#retries.pending.size === 0 && !this.#closed) await this.#marks.mark();
  }

  async #writeOwn(): Promise<void> {
    if (this.#closed) return;
    const unsent = [...this.#unsent.values()];
    this.#unsent.clear();
    // A forget first: a registration made here after it is written below.
    await Promise.all(
      unsent.flatMap((u) =>
        u.forgotAt === undefined ? [] : [this.#writeForget(u.tenant, u.address, u.forgotAt)],
      ),
    );
    const own = this.#mirror.ownContacts();
    const ownSignIns = this.#mirror.ownSignIns();
    const held = (list: readonly { tenant: string; address: string }[], u: Unsent) =>
      list.some((o) => o.tenant === u.tenant && o.address === u.address);
    await Promise.all([
      ...own.map((o) => this.#writeContacts(o.tenant, o.address, o.contacts, o.at)),
      ...ownSignIns.map((o) => this.#writeSignIn(o.tenant, o.address, o.signIn)),
      // Its contacts here gone meanwhile: the field still in a Redis that kept its data.
      ...unsent
        .filter((u) => u.forgotAt === undefined && !held(own, u))
        .map((u) => this.#writeContacts(u.tenant, u.address, [], this.#now())),
      ...unsent
        .filter((u) => u.signedOutAt !== undefined && !held(ownSignIns, u))
        .map((u) => this.#writeSignOut(u.tenant, u.address, u.signedOutAt ?? 0)),
    ]);
  }

  /** Remembers a change whose write failed, to write it again (`#rewrite`). */
  #failed(tenant: string, address: string, what: Omit<Unsent, 'tenant' | 'address'> = {}): void {
    const key = deviceKey(tenant, address);
    const unsent = this.#unsent.get(key) ?? { tenant, address };
    Object.assign(unsent, what);
    this.#unsent.set(key, unsent);
    this.#retries.failed('unsent');
  }

  async #writeForget(tenant: string, address: string, at: number): Promise<void> {
    if (this.#closed) return;
    const key = this.#key(tenant, address);
    const message = this.#message(tenant, address, { kind: 'forget', at });
    const done = await this.#redis.run(
      'device_forget',
      (r) => r.eval(FORGET, 2, key, this.#index, String(at), this.#channel, message),
      null,
    );
    if (done === null) this.#failed(tenant, address, { forgotAt: at });
  }

  async #writeSignOut(tenant: string, address: string, at: number): Promise<void> {
    if (this.#closed) return;
    const done = await this.#redis.run(
      'device_sign_in',
      (r) =>
        r.eval(
          SIGN_OUT,
          1,
          this.#key(tenant, address),
          String(at),
          this.#channel,
          this.#message(tenant, address, { kind: 'signIn', signIn: null, at }),
        ),
      null,
    );
    if (done === null) this.#failed(tenant, address, { signedOutAt: at });
  }

  /**
   * Reads every device's hash (one script). At start (`restoreOwn`) also the
   * contacts this instance wrote before it stopped, without their connection:
   * a restarted gateway rings its devices at once, and a device's next
   * REGISTER replaces them. Resolves to false when Redis could not be read.
   */
  async #load(restoreOwn: boolean): Promise<boolean> {
    const sentAt = this.#heard;
    const whole = (await this.#marks.whole()) ?? new Set<string>();
    const reply = await this.#redis.run(
      'device_load',
      (r) => r.eval(LOAD, 1, this.#index, String(this.#now())) as Promise<unknown>,
      undefined,
    );
    if (!Array.isArray(reply)) return false;
    const devices = parseDevices(reply, this.#redis.key('device', ''), (err, key, field) =>
      this.#log.warn({ err, key, field }, 'unreadable device state ignored'),
    );
    const own: { tenant: string; address: string; contacts: DeviceContact[]; at?: number }[] = [];
    for (const device of devices) {
      const { tenant, address } = device;
      const mine = device.contacts.get(this.#instance);
      if (restoreOwn && mine)
        own.push({ tenant, address, contacts: mine, at: device.contactsAt.get(this.#instance) });
    }
    // A field told since the read was sent (the read is not atomic with the messages) is kept.
    // A field missing from a gateway that has not written its own in this Redis yet is kept.
    this.#mirror.replaceOthers(
      devices,
      (t, a, field) =>
        [field, '*'].some((f) => (this.#heardAt.get(`${deviceKey(t, a)}\n${f}`) ?? 0) > sentAt),
      (instance) => whole.has(instance),
    );
    for (const o of own)
      // Never over a registration this process already holds.
      if (!this.#mirror.ownContacts().some((c) => c.tenant === o.tenant && c.address === o.address))
        this.#mirror.setContacts(o.tenant, o.address, o.contacts, this.#instance, o.at);
    return true;
  }

  async #writeContacts(
    tenant: string,
    address: string,
    contacts: readonly DeviceContact[],
    at: number,
  ): Promise<void> {
    if (this.#closed) return;
    // Only live ones: a field written with none gives the hash no expiry to last until.
    const now = this.#now();
    const listed = contacts
      .filter((c) => c.expiresAt > now)
      .map((c) => ({ uri: c.uri, expiresAt: c.expiresAt, at }));
    const key = this.#key(tenant, address);
    const field = `contacts:${this.#instance}`;
    const message = this.#message(tenant, address, { kind: 'contacts', contacts: listed, at });
    const done = await this.#redis.run(
      'device_contacts',
      (r) => {
        const m = r.multi();
        if (listed.length > 0) m.hset(key, field, JSON.stringify(listed));
        else m.hdel(key, field);
        this.#lastsUntil(m, key, Math.max(0, ...listed.map((c) => c.expiresAt)));
        m.publish(this.#channel, message);
        return m.exec().then(replies);
      },
      null,
    );
    if (!done) this.#failed(tenant, address);
  }

  /** A sign-in made here, unless one or a sign-out made elsewhere is later (`SIGN_IN`). */
  async #writeSignIn(tenant: string, address: string, signIn: SharedSignIn): Promise<void> {
    if (this.#closed) return;
    // One already over is written as a sign-out (it would hold the hash past its time).
    if (signIn.until <= this.#now()) return this.#writeSignOut(tenant, address, signIn.at);
    const key = this.#key(tenant, address);
    const message = this.#message(tenant, address, { kind: 'signIn', signIn });
    const done = await this.#redis.run(
      'device_sign_in',
      (r) => {
        const m = r.multi();
        m.eval(SIGN_IN, 1, key, JSON.stringify(signIn), String(signIn.at), this.#channel, message);
        this.#lastsUntil(m, key, signIn.until);
        return m.exec().then(replies);
      },
      null,
    );
    // Written again with the others made here (`#rewrite` writes every own sign-in).
    if (!done) this.#retries.failed('unsent');
  }

  /**
   * The hash and its place in the list last at least until `until` (epoch ms).
   * NX gives a key its first expiry; GT only ever moves one later (GT alone
   * never sets an expiry on a key that has none, so the key would never expire).
   */
  #lastsUntil(m: ChainableCommander, key: string, until: number): void {
    if (until <= this.#now()) return;
    m.zadd(this.#index, 'GT', until, key);
    for (const k of [key, this.#index]) {
      m.pexpireat(k, until, 'NX');
      m.pexpireat(k, until, 'GT');
    }
  }

  #received(text: string): void {
    let message: DeviceMessage;
    try {
      const value: unknown = JSON.parse(text);
      const written = WrittenMarks.noticeFrom(value);
      // Another gateway's state is whole now: a read may remove what it no longer has.
      if (written !== undefined) {
        if (written !== this.#instance && this.#started) void this.#load(false);
        return;
      }
      message = messageSchema.parse(value);
    } catch (error) {
      this.#log.warn({ err: error }, 'unreadable device change ignored');
      return;
    }
    if (message.instance === this.#instance) return;
    const { tenant, address, change } = message;
    const field =
      change.kind === 'contacts'
        ? `contacts:${message.instance}`
        : change.kind === 'signIn'
          ? 'signIn'
          : '*';
    this.#heardAt.set(`${deviceKey(tenant, address)}\n${field}`, ++this.#heard);
    if (change.kind === 'contacts') {
      const { instance } = message;
      this.#mirror.setContacts(tenant, address, remote(change.contacts), instance, change.at);
    } else if (change.kind === 'signIn') {
      // Never over a later one (a gateway back from an outage may tell an older one).
      const held = this.#mirror.signedIn(tenant, address, this.#now());
      const at = change.signIn?.at ?? change.at ?? Infinity;
      if (!held || at >= held.at)
        this.#mirror.setSignIn(tenant, address, change.signIn ?? undefined);
    } else this.#mirror.forget(tenant, address, change.at);
  }

  #message(tenant: string, address: string, change: DeviceMessage['change']): string {
    return JSON.stringify({ instance: this.#instance, tenant, address, change });
  }

  #key(tenant: string, address: string): string {
    return this.#redis.key('device', encodeURIComponent(tenant), encodeURIComponent(address));
  }
}
