/**
 * What the widget set-up bench reads inside Chromium's page: a script run
 * before the page's own that stamps each step of a call (token, microphone,
 * WebSocket, INVITE, 200, answer, ICE, DTLS, first packet) and keeps the peer
 * connections, and the getStats() poll of the inbound audio.
 */
import type { Page } from 'playwright-core';

/**
 * Runs before the page's scripts: keeps the peer connections and the widget's
 * states, and stamps (Date.now(), the same clock as the bench's) the first
 * time each step of a call happens, for the breakdowns.
 */
export const PROBE = `
  window.__pcs = [];
  window.__states = [];
  window.__marks = {};
  const mark = (name) => { window.__marks[name] ??= Date.now(); };
  document.addEventListener('parley-state', (e) => window.__states.push(e.detail.state));
  document.addEventListener('parley-error', (e) => window.__states.push('error:' + e.detail.code));
  const originalFetch = window.fetch;
  window.fetch = function (...args) {
    const result = originalFetch.apply(this, args);
    const url = String((args[0] && args[0].url) || args[0]);
    if (url.includes('token')) result.then(() => mark('token'), () => undefined);
    return result;
  };
  if (navigator.mediaDevices) {
    const getUserMedia = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
    navigator.mediaDevices.getUserMedia = (c) => getUserMedia(c).then((stream) => { mark('mic'); return stream; });
  }
  const OriginalWs = window.WebSocket;
  window.WebSocket = class extends OriginalWs {
    constructor(...args) {
      super(...args);
      mark('ws');
      this.addEventListener('open', () => mark('wsOpen'));
      this.addEventListener('message', (e) => {
        if (typeof e.data === 'string' && e.data.startsWith('SIP/2.0 200') && /^CSeq:\\s*\\d+\\s+INVITE/im.test(e.data)) mark('ok');
      });
    }
  };
  const send = OriginalWs.prototype.send;
  WebSocket.prototype.send = function (data) {
    if (typeof data === 'string' && data.startsWith('INVITE ')) mark('invite');
    return send.call(this, data);
  };
  const Original = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Original {
    constructor(...args) {
      super(...args);
      mark('pc');
      window.__pcs.push(this);
      this.addEventListener('iceconnectionstatechange', () => { if (['connected', 'completed'].includes(this.iceConnectionState)) mark('ice'); });
      this.addEventListener('connectionstatechange', () => { if (this.connectionState === 'connected') mark('dtls'); });
      this.addEventListener('track', (e) => {
        const t = e.track;
        if (!t.muted) { mark('unmute'); return; }
        t.addEventListener('unmute', () => mark('unmute'), { once: true });
      });
    }
    setRemoteDescription(...args) {
      if (args[0] && args[0].type === 'answer') mark('answer');
      return super.setRemoteDescription(...args);
    }
  };
`;

/** Date.now() of the first time each step happened in the page. */
export interface PageMarks {
  /** The company's token endpoint answered. */
  readonly token?: number;
  /** getUserMedia resolved. */
  readonly mic?: number;
  /** The lazy call-stack chunk finished loading (resource timing). */
  readonly chunk?: number;
  /** The SIP WebSocket was created, and opened. */
  readonly ws?: number;
  readonly wsOpen?: number;
  readonly pc?: number;
  readonly invite?: number;
  /** The gateway's 200 OK to the INVITE arrived on the WebSocket. */
  readonly ok?: number;
  readonly answer?: number;
  readonly ice?: number;
  readonly dtls?: number;
  readonly unmute?: number;
}

export type ProbeWindow = {
  __pcs: RTCPeerConnectionLike[];
  __states: string[];
  __marks: PageMarks;
};
type StatsLike = {
  getStats(): Promise<{ forEach(fn: (r: Record<string, unknown>) => void): void }>;
};
type RTCPeerConnectionLike = StatsLike & {
  getReceivers(): (StatsLike & { track: { kind: string } | null })[];
};

/**
 * packetsReceived of the newest peer connection's inbound audio, and its codec.
 * The audio receiver's getStats() (the same inbound-rtp report, scoped to one
 * track) is used when there is one: it is cheaper than the whole connection's,
 * which makes the polls come closer together.
 */
export function inbound(page: Page): Promise<{ packets: number; codec: string | undefined }> {
  return page.evaluate(async () => {
    const pc = (globalThis as unknown as ProbeWindow).__pcs.at(-1);
    if (!pc) return { packets: 0, codec: undefined };
    const receiver = pc.getReceivers().find((r) => r.track?.kind === 'audio');
    const stats = await (receiver ?? pc).getStats();
    let packets = 0;
    let codecId: string | undefined;
    const mimes: Record<string, string> = {};
    stats.forEach((r) => {
      if (r['type'] === 'inbound-rtp' && r['kind'] === 'audio') {
        packets = Number(r['packetsReceived'] ?? 0);
        codecId = r['codecId'] as string | undefined;
      }
      if (r['type'] === 'codec') mimes[String(r['id'])] = String(r['mimeType']);
    });
    return { packets, codec: codecId ? mimes[codecId] : undefined };
  });
}
