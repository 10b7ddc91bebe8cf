/**
 * One carrier trunk at run time: its peers and their keep-alive, who may send
 * it INVITEs, its numbers, and the slots of its concurrent-call cap, which
 * inbound and outbound calls share.
 */
import { EventEmitter } from 'node:events';
import type { Config } from '../config/index.js';
import type { Logger } from '../observability/index.js';
import type { SipStack } from '../sip/index.js';
import { DidTable, type DidRoute } from './did-table.js';
import { toE164, type NumberFormat } from './e164.js';
import { PeerMonitor } from './peer-monitor.js';
import { SourceAcl } from './source-acl.js';

export type TrunkCodec = 'PCMU' | 'PCMA';
export type TrunkDirection = 'inbound' | 'outbound';

/** A carrier peer as the dialer and the classification report it. */
export interface TrunkPeerInfo {
  /** `host:port/udp` — the label of its metrics and logs. */
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly transport: 'udp' | 'tcp';
  readonly priority: number;
  readonly weight: number;
}

/**
 * One of the trunk's concurrent-call slots, held by a call from its INVITE to
 * its end. `release()` is safe twice; a slot never released keeps the trunk a
 * call short, so the owner releases it in its own close().
 */
export interface TrunkSlot {
  readonly trunk: string;
  readonly direction: TrunkDirection;
  release(): void;
}

export interface TrunkEvents {
  peerUp: [TrunkPeerInfo];
  peerDown: [TrunkPeerInfo, string];
  probe: [TrunkPeerInfo, { readonly ok: boolean; readonly rttMs?: number }];
  slots: [number];
}

/** A trunk's config, resolved (`auth.password` read from the environment by config/), and its id. */
export type TrunkSettings = Config['trunks'][string] & { readonly id: string };

interface Peer extends TrunkPeerInfo {
  readonly monitor: PeerMonitor | undefined;
}

export class Trunk extends EventEmitter<TrunkEvents> {
  readonly id: string;
  readonly name: string;
  readonly codecs: readonly TrunkCodec[];
  readonly settings: TrunkSettings;
  readonly #peers: readonly Peer[];
  readonly #acl: SourceAcl;
  readonly #dids: DidTable;
  readonly #random: () => number;
  #active = 0;

  constructor(deps: {
    settings: TrunkSettings;
    stack: SipStack;
    logger: Logger;
    /** For the weighted order of peers of one priority (tests pass a fixed one). */
    random?: () => number;
  }) {
    super();
    const settings = deps.settings;
    this.settings = settings;
    this.id = settings.id;
    this.name = settings.name ?? settings.id;
    this.codecs = settings.codecs;
    this.#random = deps.random ?? Math.random;
    const keepAlive = settings.keepAlive;
    const log = deps.logger.child({ module: 'trunks', trunk: this.id });
    this.#peers = settings.peers.map((p) => {
      const info: TrunkPeerInfo = {
        id: `${p.host}:${p.port}/${p.transport}`,
        host: p.host,
        port: p.port,
        transport: p.transport,
        priority: p.priority,
        weight: p.weight,
      };
      const monitor =
        keepAlive.intervalSeconds > 0
          ? new PeerMonitor({
              stack: deps.stack,
              peer: p,
              intervalMs: keepAlive.intervalSeconds * 1000,
              timeoutMs: keepAlive.timeoutMs,
              failuresBeforeDown: keepAlive.failuresBeforeDown,
              logger: log.child({ peer: info.id }),
            })
          : undefined;
      monitor?.on('up', () => this.emit('peerUp', info));
      monitor?.on('down', (reason) => this.emit('peerDown', info, reason));
      monitor?.on('probe', (result) => this.emit('probe', info, result));
      return { ...info, monitor };
    });
    this.#acl = new SourceAcl([...settings.peers.map((p) => p.host), ...settings.inbound.allow]);
    this.#dids = new DidTable(settings.inbound.numbers);
  }

  get peers(): readonly (TrunkPeerInfo & { readonly up: boolean })[] {
    return this.#peers.map(({ monitor, ...info }) => ({ ...info, up: monitor?.up ?? true }));
  }

  get activeCalls(): number {
    return this.#active;
  }

  get maxCalls(): number {
    return this.settings.maxConcurrentCalls;
  }

  get defaultCountry(): string | undefined {
    return this.settings.defaultCountry;
  }

  get numberFormat(): NumberFormat {
    return this.settings.outbound.numberFormat;
  }

  start(): void {
    for (const peer of this.#peers) peer.monitor?.start();
  }

  close(): void {
    for (const peer of this.#peers) peer.monitor?.close();
  }

  allowsSource(address: string): boolean {
    return this.#acl.allows(address);
  }

  /** The configured peer at `address` (the first, when several share it). */
  peerAt(address: string): TrunkPeerInfo | undefined {
    const bare = address.replace(/^::ffff:/, '');
    const found = this.#peers.find((p) => p.host.replace(/^\[|\]$/g, '') === bare);
    if (!found) return undefined;
    const { monitor: _monitor, ...info } = found;
    return info;
  }

  /** A number as this trunk reads it (its default country), in E.164. */
  normalise(text: string): string | undefined {
    return toE164(text, this.settings.defaultCountry);
  }

  route(e164: string): DidRoute | undefined {
    return this.#dids.lookup(e164);
  }

  allowsTenant(tenant: string): boolean {
    const tenants = this.settings.outbound.tenants;
    return tenants.length === 0 || tenants.includes(tenant);
  }

  /**
   * The peers to try for an outbound call, in order: only those up, lower
   * priority first, and within one priority a weighted random order (each
   * peer's chance to be first is its share of the weights).
   */
  dialOrder(): TrunkPeerInfo[] {
    const up = this.#peers.filter((p) => p.monitor?.up ?? true);
    const priorities = [...new Set(up.map((p) => p.priority))].sort((a, b) => a - b);
    const order: TrunkPeerInfo[] = [];
    for (const priority of priorities) {
      const group = up.filter((p) => p.priority === priority);
      while (group.length > 0) {
        const total = group.reduce((sum, p) => sum + p.weight, 0);
        let pick = this.#random() * total;
        let index = group.findIndex((p) => (pick -= p.weight) < 0);
        if (index < 0) index = group.length - 1;
        const [chosen] = group.splice(index, 1);
        if (chosen) {
          const { monitor: _monitor, ...info } = chosen;
          order.push(info);
        }
      }
    }
    return order;
  }

  /** A slot under the cap, or undefined when the trunk is full (the caller answers 503). */
  acquire(direction: TrunkDirection): TrunkSlot | undefined {
    if (this.#active >= this.settings.maxConcurrentCalls) return undefined;
    this.#active += 1;
    this.emit('slots', this.#active);
    let released = false;
    return {
      trunk: this.id,
      direction,
      release: () => {
        if (released) return;
        released = true;
        this.#active -= 1;
        this.emit('slots', this.#active);
      },
    };
  }
}
