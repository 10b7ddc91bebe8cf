/** What the B2BUA benchmark (`bench/src/b2bua.ts`) measures: its runs, phases and options. */
import type { ProfileSummary } from '../cpu-profile.js';
import type { LatencySummary } from '../latency-stats.js';
import type { UsageWindow } from '../proc-usage.js';
import type { WireTiming } from '../sip-capture.js';

export interface FailureSummary {
  /** Final responses sipp did not expect (status line + Reason header), counted. */
  readonly responses: Record<string, number>;
  /** sipp's failure counters that are not zero. */
  readonly counters: Record<string, number>;
  readonly excerpt: string;
  readonly errorsFile?: string;
  /**
   * What the gateway's own records (its SQLite file) say about the calls sipp
   * gave up on: state, outcome, and ms from the INVITE to ringing, the agent
   * leg's start, the answer and the end.
   */
  readonly gatewayRecords?: readonly Record<string, unknown>[];
}

export interface RunResult {
  readonly label: string;
  readonly via: 'gateway' | 'direct';
  readonly media: 'none' | 'rtp';
  readonly rate: number;
  readonly calls: number;
  readonly callMs: number;
  readonly successful: number;
  readonly failed: number;
  readonly retransmissions: number;
  readonly exitCode: number | null;
  /** 200 OKs per second, first to last (what sipp really achieved). */
  readonly achievedRate: number;
  readonly latency: LatencySummary;
  /** INVITE→200 timed on the wire (tshark), when captured. */
  readonly wire?: WireTiming;
  readonly gateway: UsageWindow | undefined;
  /** Gateway CPU per call over the whole run (setup, hold, teardown), ms. */
  readonly cpuMsPerCall: number | undefined;
  /** Calls the gateway still held after sipp finished (a leak when not 0 after 10 s). */
  readonly leftoverCalls: number | undefined;
  /** Datagrams the kernel dropped during the run: full receive buffers (/proc/net/udp). */
  readonly udpDrops: { readonly gateway: number; readonly uas: number };
  /** The gateway's V8 heap in use once its calls were over (its /metrics), bytes. */
  readonly heapUsedAfterBytes: number | undefined;
  /** Gateway log lines at warn or worse during the run, by message. */
  readonly gatewayWarnings: Record<string, number>;
  readonly failures?: FailureSummary;
}

export interface HeldResult {
  readonly media: 'none' | 'rtp';
  readonly calls: number;
  readonly holdSeconds: number;
  readonly idle: UsageWindow | undefined;
  readonly steady: UsageWindow | undefined;
  readonly cpuPercentPerCall: number | undefined;
  readonly rssBytesPerCall: number | undefined;
  /** From the gateway's call records: RTP packets in/out on each leg, summed over the calls. */
  readonly relayed:
    { visitorIn: number; visitorOut: number; agentIn: number; agentOut: number } | undefined;
  readonly run: RunResult;
}

/** The gateway's own gauges and memory, read from /metrics. */
export interface GatewaySnapshot {
  readonly atSeconds: number;
  readonly heapUsedBytes: number;
  readonly rssBytes: number;
  readonly calls: number;
  readonly transactions: number;
  readonly dialogs: number;
  readonly mediaRouters: number;
  /** Read right after a heap snapshot's full GC. */
  readonly afterFullGc?: boolean;
}

export interface IdleResult {
  readonly seconds: number;
  readonly snapshots: readonly GatewaySnapshot[];
}

/** The latency phase: INVITE→200 straight to the UAS and through the gateway. */
export interface LatencyResult {
  readonly direct: RunResult;
  readonly gateway: RunResult;
  readonly addedP50Ms: number;
  readonly addedP99Ms: number;
  readonly wire?: {
    readonly addedP50Ms: number;
    readonly addedP99Ms: number;
    /** Visitor leg minus agent leg, on means: the gateway's own time per INVITE. */
    readonly ownMeanMs: number;
    readonly own: WireTiming['own'];
  };
}

/** The setup-rate phase: the steps, the noisy ones run again, the highest clean rate. */
export interface RateResult {
  readonly steps: RunResult[];
  readonly noisy: RunResult[];
  readonly highestCleanRate: number | undefined;
  readonly firstFailing: string | undefined;
}

/** The options the benchmark runs with (its command line, with defaults). */
export interface B2buaOptions {
  readonly rates: number[];
  readonly stepSeconds: number;
  readonly callMs: number;
  readonly latencyRate: number;
  readonly latencySeconds: number;
  readonly concurrent: number;
  readonly holdSeconds: number;
  /**
   * --agents, as given: the gateway gets more when the peak call count needs
   * them (`MAX_CALLS_PER_AGENT` each; the progress line says how many).
   */
  readonly agents: number;
  readonly gatewayCpu: number;
  readonly sippCpu: number;
  readonly maxP99Ms: number;
  /** A failing step is run again (this many times) when the gateway waited for its CPU more than noisyWaitPercent. */
  readonly retries: number;
  readonly noisyWaitPercent: number;
  readonly phases: Set<string>;
  readonly timeoutSeconds: number;
  /** After the load: how long to watch the idle gateway give back what the calls held. */
  readonly idleSeconds: number;
}

/** The machine and commit a run measured. */
export interface Machine {
  readonly nproc: number;
  readonly model: string;
  readonly node: string;
  readonly date: string;
  readonly loadAverage: string;
  readonly git: string;
}

/** Everything a run found: written as JSON, and as Markdown by `report.ts`. */
export type Results = {
  machine: Machine;
  options: Omit<B2buaOptions, 'phases'> & { phases: string[]; quick: boolean };
  warmup?: RunResult;
  latency?: LatencyResult;
  held?: HeldResult[];
  rate?: RateResult;
  gatewayErrors: string[];
  cpuProfile?: ProfileSummary & { file: string };
  uas?: Record<string, number | string>;
  idle?: IdleResult;
  error?: string;
};
