/** The test softphone's options and its interface (the implementation is in baresip.ts). */
import type { EventEmitter } from 'node:events';

import type { BaresipEvent, BaresipEventType, BaresipResponse } from './baresip-ctrl.js';
import type { PortAllocator } from './ports.js';
import type { ExitInfo, ManagedProcess } from './process.js';
import type { SipMessage } from './sip-message.js';

export type SipTransport = 'udp' | 'tcp';

export interface BaresipAgentOptions {
  /** Account user, e.g. `agent1`. */
  readonly user: string;
  /** Digest password (auth_pass). */
  readonly password?: string;
  /**
   * `host:port` of the registrar. Without it the agent does not register and
   * is reached directly at `agent.uri`.
   */
  readonly registrar?: string;
  /** Default `udp`. */
  readonly transport?: SipTransport;
  /** Address baresip binds and advertises. Default 127.0.0.1. */
  readonly address?: string;
  /** SIP port (UDP and TCP; baresip adds TLS on the next port, keep it free too). Default: a free pair. */
  readonly listenPort?: number;
  /**
   * WAV baresip sends as its microphone. It must match the codecs' clock rate
   * (aufile does not resample) and outlast the call. Default: an 800 Hz tone
   * lasting `audioSeconds`, 8 kHz mono for G.711, 48 kHz stereo for Opus,
   * 16 kHz mono for G.722.
   */
  readonly audioSource?: string;
  /** Length of the default tone. Default 180 s. */
  readonly audioSeconds?: number;
  /** Frequency of the default tone. Default 800 Hz (the visitor-side fixtures use 1 kHz). */
  readonly toneHz?: number;
  /**
   * baresip codec names in preference order: `PCMU`, `PCMA`, `G722`,
   * `opus/48000/2`, all of one clock rate (aufile does not resample; a mixed
   * list is refused). An agent of the gateway's early answer (`auto`) is
   * offered PCMU alone when it is a SIP phone: list G.711 unless the test is
   * about Opus. Default `['PCMU', 'PCMA']`.
   */
  readonly codecs?: readonly string[];
  /** `auto` answers at once; `manual` rings until `accept()`. Default auto. */
  readonly answerMode?: 'auto' | 'manual';
  /** Appended to the account line, e.g. `;outbound="sip:127.0.0.1:5070"` or `{ ptime: '20' }`. */
  readonly extraAccountParams?: string | Readonly<Record<string, string>>;
  /** Extra config lines, `name value`. */
  readonly extraConfig?: readonly string[];
  /** Registration interval in seconds. Default 60 (0 when there is no registrar). */
  readonly regintSeconds?: number;
  /** `call_max_calls`. Default 4. */
  readonly maxCalls?: number;
  /** Where the config directory goes. Default a fresh directory under the OS temp dir. */
  readonly dir?: string;
  /** Keep the config directory (and recordings) after `stop()`. Default false. */
  readonly keepDir?: boolean;
  /** How long start-up may take. Default 10 s. */
  readonly startTimeoutMs?: number;
  readonly ports?: PortAllocator;
  /** Name in failure messages. Default `baresip-<user>`. */
  readonly name?: string;
}

export interface BaresipRecording {
  readonly path: string;
  /** `received` = `-dec.wav`, what the agent heard; `sent` = `-enc.wav`, its microphone. */
  readonly kind: 'received' | 'sent';
  /** The `YYYY-MM-DD-hh-mm-ss` part of the name (one-second resolution). */
  readonly stamp: string;
}

export interface WaitOptions {
  /** Also consider events from this index of `history` on (see `mark()`). Default: only future events. */
  readonly since?: number;
  /** Stops waiting (the promise rejects with the signal's reason). */
  readonly signal?: AbortSignal;
}

export interface BaresipAgentEvents {
  event: [BaresipEvent];
  sip: [SipMessage];
  exit: [ExitInfo];
}

export interface BaresipAgent {
  readonly user: string;
  /** `sip:user@registrar` (or the direct URI when there is no registrar). */
  readonly aor: string;
  /** Where to reach it without a registrar: `sip:user@127.0.0.1:port[;transport=tcp]`. */
  readonly uri: string;
  readonly address: string;
  readonly listenPort: number;
  readonly controlPort: number;
  readonly rtpPorts: readonly [number, number];
  readonly transport: SipTransport;
  readonly dir: string;
  readonly recordingDir: string;
  readonly audioSource: string;
  readonly process: ManagedProcess;
  /** Every ctrl_tcp event, every traced SIP message, and the process exit. */
  readonly events: EventEmitter<BaresipAgentEvents>;
  /** Events received so far, oldest first. */
  readonly history: readonly BaresipEvent[];
  /** The index the next event will get, for `waitForEvent(…, { since })`. */
  mark(): number;
  waitForEvent(
    type: BaresipEventType,
    predicate?: (event: BaresipEvent) => boolean,
    timeoutMs?: number,
    options?: WaitOptions,
  ): Promise<BaresipEvent>;
  /** Sends a ctrl_tcp command (`dial`, `hangup`, `accept`, `reginfo`, `ausrc`, `listcalls`, …). */
  command(command: string, params?: string, timeoutMs?: number): Promise<BaresipResponse>;
  /** Dials a SIP URI; resolves once baresip accepted the command. */
  dial(uri: string): Promise<void>;
  /** Hangs up the current call. */
  hangup(): Promise<void>;
  /** Answers the ringing call (answer mode `manual`). */
  accept(): Promise<void>;
  /** Switches the microphone to another WAV (same clock rate rules). */
  setAudioSource(wavPath: string): Promise<void>;
  /** Waits for a successful registration; rejects on REGISTER_FAIL or timeout. */
  registered(timeoutMs?: number): Promise<void>;
  /** The call recordings, oldest first. */
  recordings(): BaresipRecording[];
  /** The last call's pair of recordings. */
  lastRecording(): { readonly received: string | undefined; readonly sent: string | undefined };
  /**
   * Every SIP message baresip sent or received, oldest first (the last 20000;
   * `since` indexes for `waitForRequest` are positions in this list).
   */
  sipMessages(): readonly SipMessage[];
  /**
   * SIP requests baresip received (raw text in `.raw`), optionally of one method,
   * one per transaction: a retransmission (same method and top Via branch) is
   * left out, so counts are the requests the phone acted on (the suite's T1 is
   * 100 ms, a loaded machine retransmits).
   */
  receivedRequests(method?: string): SipMessage[];
  /** Waits for (or finds, with `since`) a received request. */
  waitForRequest(
    method: string,
    predicate?: (message: SipMessage) => boolean,
    timeoutMs?: number,
    options?: { readonly since?: number },
  ): Promise<SipMessage>;
  /** Quits (ctrl_tcp `quit`), SIGKILLs after `graceMs` (default 1000), frees ports, removes the directory. */
  stop(options?: { readonly graceMs?: number }): Promise<void>;
}
