/**
 * Keeps a call's audio through a network change (issue 16 item 4): when the
 * peer connection's ICE goes `failed`, or stays `disconnected` past a short
 * wait (Chrome says `disconnected` when consent checks stop, and often
 * recovers by itself within a second), or the page comes back `online`, or
 * the path is seen dead in the peer connection's stats (the selected pair's
 * check unanswered and no audio for a second: Chromium, whose address went,
 * keeps checking its old pairs and says `disconnected` only about 8 s later),
 * the client sends an ICE restart (a re-INVITE with new ICE credentials, RFC 8839
 * §4.4.1.1.1); the gateway answers it and audio resumes on the new path. One
 * restart at a time; a failed one is tried again at the next trigger.
 */

/** What the watcher needs of a peer connection (a real RTCPeerConnection has it). */
export interface IcePeer {
  readonly iceConnectionState: RTCIceConnectionState;
  addEventListener(type: 'iceconnectionstatechange', listener: () => void): void;
  removeEventListener(type: 'iceconnectionstatechange', listener: () => void): void;
}

/** Where `online` comes from (the page's window). */
export interface OnlineSource {
  addEventListener(type: 'online', listener: () => void): void;
  removeEventListener(type: 'online', listener: () => void): void;
}

/** One look at the media path, from the peer connection's stats. */
export interface PathSample {
  /** The selected candidate pair's last connectivity check is still unanswered. */
  readonly checkPending: boolean;
  /** Audio packets received so far. */
  readonly packetsReceived: number;
}

export interface IceWatchOptions {
  /** Sends the ICE restart; resolves once it is answered (or rejects). */
  readonly restart: () => Promise<unknown>;
  /** How long `disconnected` may last before a restart. Default 1500 ms. */
  readonly disconnectedMs?: number;
  readonly online?: OnlineSource | undefined;
  /**
   * Looks at the path (`statsProbe`); a path whose check stays unanswered
   * while no audio arrives for `deadPathMs` is restarted (while ICE still
   * says connected). Without it, only ICE's states and `online` count.
   */
  readonly probe?: (() => Promise<PathSample | undefined>) | undefined;
  /** How often the probe looks. Default 250 ms. */
  readonly probeMs?: number;
  /** How long a path may look dead before a restart. Default 1000 ms. */
  readonly deadPathMs?: number;
  readonly setTimeout?: (fn: () => void, ms: number) => unknown;
  readonly clearTimeout?: (handle: unknown) => void;
}

/** Starts watching `peer`; the function returned stops it. */
export function watchIce(peer: IcePeer, options: IceWatchOptions): () => void {
  const setTimer = options.setTimeout ?? ((fn, ms) => globalThis.setTimeout(fn, ms));
  const clearTimer =
    options.clearTimeout ??
    ((handle) => globalThis.clearTimeout(handle as ReturnType<typeof setTimeout>));
  const waitMs = options.disconnectedMs ?? 1500;
  let timer: unknown;
  let restarting = false;
  let stopped = false;

  const restart = (): void => {
    if (stopped || restarting) return;
    restarting = true;
    options.restart().then(
      () => (restarting = false),
      () => (restarting = false),
    );
  };
  const onState = (): void => {
    const state = peer.iceConnectionState;
    if (timer !== undefined && state !== 'disconnected') {
      clearTimer(timer);
      timer = undefined;
    }
    if (state === 'failed') restart();
    else if (state === 'disconnected' && timer === undefined) {
      timer = setTimer(() => {
        timer = undefined;
        if (peer.iceConnectionState === 'disconnected') restart();
      }, waitMs);
    }
  };
  const onOnline = (): void => restart();

  // The probe: dead for `deadPathMs` in a row (in samples) while ICE says connected.
  const probeMs = options.probeMs ?? 250;
  const deadSamples = Math.max(1, Math.ceil((options.deadPathMs ?? 1000) / probeMs));
  let probeTimer: unknown;
  let dead = 0;
  let packets = -1;
  const look = async (probe: () => Promise<PathSample | undefined>): Promise<void> => {
    const sample = await probe().catch(() => undefined);
    const state = peer.iceConnectionState;
    const watching = !restarting && (state === 'connected' || state === 'completed');
    const silent = sample !== undefined && sample.packetsReceived === packets;
    dead = watching && silent && sample.checkPending ? dead + 1 : 0;
    packets = sample?.packetsReceived ?? -1;
    if (dead >= deadSamples) {
      dead = 0;
      restart();
    }
  };
  const scheduleLook = (): void => {
    const probe = options.probe;
    if (stopped || !probe) return;
    probeTimer = setTimer(() => void look(probe).then(scheduleLook), probeMs);
  };
  scheduleLook();

  peer.addEventListener('iceconnectionstatechange', onState);
  options.online?.addEventListener('online', onOnline);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimer(timer);
    if (probeTimer !== undefined) clearTimer(probeTimer);
    peer.removeEventListener('iceconnectionstatechange', onState);
    options.online?.removeEventListener('online', onOnline);
  };
}

/** What `statsProbe` needs of a peer connection (a real RTCPeerConnection has it). */
export interface StatsPeer {
  getStats(): Promise<RTCStatsReport>;
}

/**
 * The path as the peer connection's stats show it: the selected pair (the
 * transport's `selectedCandidatePairId`, or Firefox's `selected`) and the
 * audio received. `undefined` while there is no selected pair.
 */
export function statsProbe(peer: StatsPeer): () => Promise<PathSample | undefined> {
  return async () => {
    type Stat = { type: string; id: string } & Record<string, unknown>;
    const stats: Stat[] = [];
    (await peer.getStats()).forEach((s: Stat) => stats.push(s));
    const selectedId = stats.find((s) => s.type === 'transport')?.selectedCandidatePairId;
    const pair = stats.find(
      (s) => s.type === 'candidate-pair' && (s.id === selectedId || s.selected === true),
    );
    if (!pair) return undefined;
    const audio = stats.find((s) => s.type === 'inbound-rtp' && s.kind === 'audio');
    return {
      checkPending: pair.state === 'in-progress',
      packetsReceived: Number(audio?.packetsReceived ?? 0),
    };
  };
}
