/** What the concurrent-calls phase (`concurrent-calls.ts`) is given and what it measures. */
import type { ProfileSummary } from '../cpu-profile.js';
import type { GatewayRuntime } from '../gateway-build.js';
import type { GatewaySide } from './gateway-side.js';
import type { Summary } from './measure.js';
import type { SystemName } from './server-under-test.js';

export interface ConcurrencyOptions {
  /** What is loaded: Parley on mediasoup, Parley on the relay engine, or Janus. */
  readonly system: SystemName;
  /** The visitors' WebRTC stack: libdatachannel (light) or libwebrtc. */
  readonly client: 'ndc' | 'wrtc';
  readonly steps: readonly number[];
  readonly holdSeconds: number;
  readonly gatewayCpu: number;
  readonly clientCpu: number;
  readonly maxCallsPerAgent: number;
  /** Calls placed per second while stepping up. */
  readonly rampPerSecond: number;
  /** Setups the clients run at once. */
  readonly maxSetups: number;
  /** Sample rate of the clients' tone frames. */
  readonly sampleRate: number;
  readonly dir: string;
  /** A step whose setups fail more than this share ends the run. */
  readonly stopFailureShare: number;
  readonly progress: (line: string) => void;
  /** Run the gateway with `node --cpu-prof` and copy the profile here (a path ending in .cpuprofile). */
  readonly cpuProfileTo?: string;
  /**
   * Parley: profile its Node process (over its inspector) while each step's
   * calls are placed and during each hold, the profiles written to this folder.
   */
  readonly windowProfileDir?: string;
  /** Parley: its compiled build (default) or its sources through tsx. */
  readonly gatewayRuntime?: GatewayRuntime;
  /** Parley: Node flags added to its process (e.g. V8 heap settings). */
  readonly gatewayNodeArgs?: readonly string[];
}

export interface StepResult {
  readonly target: number;
  /** Calls up at the end of the hold. */
  readonly up: number;
  readonly placed: number;
  readonly failed: number;
  /** `status reason` → count, for the setups of this step that failed. */
  readonly failures: Record<string, number>;
  /** INVITE → 200 of this step's new calls, ms. */
  readonly inviteMs: Summary;
  /** This step's new calls at the client: 200 OK → ICE connected, → DTLS connected, ms. */
  readonly iceMs: Summary;
  readonly dtlsMs: Summary;
  /** This step's new calls at the client: answer (200 OK / accepted) → first audio packet received, ms. */
  readonly firstAudioMs: Summary;
  /** This step's new calls whose data channel opened. */
  readonly dataChannelsOpen: number;
  readonly holdSeconds: number;
  readonly gatewayCpuPercent: number;
  /** The load clients' process (all @roamhq/wrtc calls), % of one core: near 100 means the load generator, not the gateway, is the limit. */
  readonly clientsCpuPercent: number;
  /** Highest one-second CPU % during the hold. */
  readonly gatewayPeakCpuPercent: number;
  /** What other tasks took on the gateway's core (its CPU's task time minus the gateway's), %. */
  readonly othersOnGatewayCorePercent: number;
  /** irq + softirq time on the gateway's core (not charged to any task), %. */
  readonly interruptsOnGatewayCorePercent: number;
  /** Steal time on the gateway's core (the hypervisor ran other guests), %. */
  readonly stealOnGatewayCorePercent: number;
  readonly rssBytes: number;
  /** CPU ms per call placed, per process of the system, from the first call placed to the last setup's end. */
  readonly admitCpuMsPerCall: Record<string, number>;
  /** CPU % of one core per process of the system over the hold. */
  readonly cpuByProcess: Record<string, number>;
  /** RSS per process of the system at the end of the hold (Parley: node, its mediasoup worker, tsx's esbuild service). */
  readonly rssByProcess: Record<string, number>;
  /** (CPU % − idle) / calls up. */
  readonly cpuPercentPerCall: number;
  /** (RSS − idle RSS) / calls up. */
  readonly rssBytesPerCall: number;
  /** Calls up whose inbound packets grew during the hold. */
  readonly audioFlowing: number;
  /** Calls up at the start of the hold that ended during it. */
  readonly droppedDuringHold: number;
  /** Per call up, mean over the hold. */
  readonly inboundPacketsPerSecond: number;
  readonly outboundPacketsPerSecond: number;
  readonly codecs: Record<string, number>;
  readonly gauges: Record<string, number>;
  /** Datagrams the kernel dropped during the hold (full receive buffers): on the gateway's sockets, and on everyone else's (clients, sipp). */
  readonly udpDropsGateway: number;
  readonly udpDropsOthers: number;
  /** The load generator could not keep up (its core ≥ 97 % busy and the clients got back < 80 % of what they sent): the row measures it, not the gateway. */
  readonly loadGeneratorSaturated: boolean;
  /** sipp (UAS and RTP echo), % of one core. */
  readonly sippCpuPercent: number;
  /** The load generator's CPU (clients, sipp, the bench), all tasks, % busy. */
  readonly clientCoreBusyPercent: number;
  /** The same new calls as the gateway recorded them (GET /v1/calls after the run). */
  readonly gatewaySide?: GatewaySide;
  /** Where the gateway's Node process spent its CPU while the step's calls were placed, and during the hold. */
  readonly profiles?: { readonly admit?: WindowProfile; readonly hold?: WindowProfile };
}

export type WindowProfile = ProfileSummary & { readonly file: string };

export interface ConcurrencyResult {
  readonly system: SystemName;
  /** Parley: how its process ran (compiled build or tsx), and the Node flags added. */
  readonly gatewayRuntime?: GatewayRuntime;
  readonly gatewayNodeArgs?: readonly string[];
  readonly client: 'ndc' | 'wrtc';
  readonly gatewayPinned: string;
  readonly clientsPinned: string;
  readonly agents: number;
  readonly maxCallsPerAgent: number;
  readonly idle: {
    readonly cpuPercent: number;
    readonly rssBytes: number;
    /** V8 heap in use after a full GC, after the warm-up call. */
    readonly liveHeapBytes: number;
  };
  /** How busy the gateway's CPU was with other work (tasks + irq + steal) over 2 s before anything started, %. */
  readonly gatewayCoreBusyBeforePercent: number;
  readonly steps: readonly StepResult[];
  readonly teardown: {
    readonly hungUp: number;
    readonly byeConfirmed: number;
    readonly seconds: number;
    readonly gaugesAfter: Record<string, number>;
    readonly rssAfterBytes: number;
    /** V8 heap in use after a full GC once every call ended: above idle's is what the calls left behind. */
    readonly liveHeapBytes: number;
    /** The same, 40 s later (`TEARDOWN_SETTLE_SECONDS` in concurrent-calls.ts): what outlives every SIP timer (Timer B/F/H of 32 s). */
    readonly liveHeapLaterBytes: number;
  };
  readonly gatewayWarnings: readonly string[];
  readonly stoppedEarly?: string;
  /** Where the gateway's CPU went over the whole run (`--cpu-prof`). */
  readonly cpuProfile?: ProfileSummary & { readonly file: string };
}
