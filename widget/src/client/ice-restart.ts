/**
 * Keeps a call's audio through a network change (issue 16 item 4): when the
 * peer connection's ICE goes `failed`, or stays `disconnected` past a short
 * wait (Chrome says `disconnected` when consent checks stop, and often
 * recovers by itself within a second), or the page comes back `online`, the
 * client sends an ICE restart (a re-INVITE with new ICE credentials, RFC 8839
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

export interface IceWatchOptions {
  /** Sends the ICE restart; resolves once it is answered (or rejects). */
  readonly restart: () => Promise<unknown>;
  /** How long `disconnected` may last before a restart. Default 1500 ms. */
  readonly disconnectedMs?: number;
  readonly online?: OnlineSource | undefined;
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

  peer.addEventListener('iceconnectionstatechange', onState);
  options.online?.addEventListener('online', onOnline);
  return () => {
    stopped = true;
    if (timer !== undefined) clearTimer(timer);
    peer.removeEventListener('iceconnectionstatechange', onState);
    options.online?.removeEventListener('online', onOnline);
  };
}
