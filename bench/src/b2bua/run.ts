/**
 * One B2BUA benchmark run: what every phase shares. It owns the temp dir, the
 * ports, the relay's media block, the sipp UAS answering for every agent, the
 * gateway process and the sampler watching it; {@link BenchRun.close} stops
 * them in that order and is safe to call twice (a timeout or a signal may
 * come while the run is still starting).
 */
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PortAllocator,
  bundledScenario,
  startSipp,
  stopAll,
  type PortBlock,
  type SippInstance,
} from '@parley/testkit';
import {
  REPO_ROOT,
  heapSnapshotArgs,
  startBenchGateway,
  takeHeapSnapshot,
  type BenchGateway,
} from '../bench-gateway.js';
import { summarizeCpuProfile, type ProfileSummary } from '../cpu-profile.js';
import { ProcSampler } from '../proc-usage.js';
import { pinSipp } from '../sipp-pinning.js';
import type { B2buaOptions, GatewaySnapshot } from './results.js';

export const MAX_CALLS_PER_AGENT = 10;

/** A progress line on stderr. */
export const progress = (line: string): void =>
  void process.stderr.write(`[b2bua ${new Date().toISOString().slice(11, 19)}] ${line}\n`);

/** The command line's switches beside the options the results record. */
export interface RunFlags {
  /** The run's start, `YYYY-MM-DDTHH-MM-SS`: in every file it writes. */
  readonly stamp: string;
  readonly keep: boolean;
  readonly cpuProf: boolean;
  readonly heapSnapshot: boolean;
  readonly noWire: boolean;
}

export class BenchRun {
  readonly options: B2buaOptions;
  readonly flags: RunFlags;
  readonly tmp = mkdtempSync(join(tmpdir(), 'parley-bench-b2bua-'));
  readonly resultsDir = join(REPO_ROOT, 'bench/results');
  readonly profileDir: string;
  readonly snapshotDir: string;
  /** Gateway log lines at warn level or worse (the first 50), for the results. */
  readonly gatewayErrors: string[] = [];
  /** The agents the gateway was configured with: --agents, or more when the peak call count needs them. */
  agents = 0;
  /** Seconds from the gateway's spawn to the end of its start-up: left out of the CPU profile. */
  profileSkipSeconds = 0;
  readonly #ports = new PortAllocator();
  #gateway: BenchGateway | undefined;
  #sampler: ProcSampler | undefined;
  #uas: SippInstance | undefined;
  #mediaBlock: PortBlock | undefined;
  #warnings: Record<string, number> = {};
  #stopping = false;
  #gatewayDied: string | undefined;
  #closed: Promise<void> | undefined;

  constructor(options: B2buaOptions, flags: RunFlags) {
    this.options = options;
    this.flags = flags;
    this.profileDir = join(this.resultsDir, `b2bua-${flags.stamp}-cpuprofile`);
    this.snapshotDir = join(this.resultsDir, `b2bua-${flags.stamp}-heap`);
  }

  get gateway(): BenchGateway {
    if (!this.#gateway) throw new Error('no gateway');
    return this.#gateway;
  }

  get uas(): SippInstance {
    if (!this.#uas) throw new Error('no UAS');
    return this.#uas;
  }

  get sampler(): ProcSampler | undefined {
    return this.#sampler;
  }

  /** The gateway's SQLite file. */
  get database(): string {
    return join(this.tmp, 'parley.sqlite');
  }

  /** Pins sipp, takes the relay's ports, starts the UAS, then the gateway pointing every agent at it. */
  async start(nproc: number): Promise<void> {
    const opt = this.options;
    const cpus = Math.max(opt.gatewayCpu, opt.sippCpu) + 1;
    if (nproc < cpus)
      throw new Error(`needs ${cpus} CPUs for --gateway-cpu/--sipp-cpu, this machine has ${nproc}`);
    const realSipp = pinSipp(this.tmp, opt.sippCpu);
    progress(
      `sipp ${realSipp} pinned to CPU ${opt.sippCpu}; gateway to CPU ${opt.gatewayCpu}; temp dir ${this.tmp}`,
    );

    // The relay's block first, while the range is emptiest: two RTP/RTCP pairs per call.
    const largestRate = Math.max(...opt.rates, opt.latencyRate);
    const peakCalls = Math.max(opt.concurrent, largestRate * (opt.callMs / 1000 + 0.5));
    let mediaPorts = Math.min(3000, Math.max(400, Math.ceil(peakCalls * 4 * 1.25)));
    let mediaBlock: PortBlock;
    for (;;) {
      try {
        mediaBlock = await this.#ports.allocate(mediaPorts, { protocols: ['udp'], even: true });
        break;
      } catch (error) {
        if (mediaPorts <= 400) throw error;
        mediaPorts = Math.max(400, Math.floor(mediaPorts / 2));
        progress(`no free block for the media relay: trying ${mediaPorts} ports`);
      }
    }
    this.#mediaBlock = mediaBlock;
    const uas = await startSipp({
      scenario: await bundledScenario('uas-answer-pcmu-echo'),
      rtpEcho: true,
      traceMessages: false,
      ports: this.#ports,
      name: 'sipp-uas',
    });
    this.#uas = uas;
    this.agents = Math.max(opt.agents, Math.ceil(peakCalls / MAX_CALLS_PER_AGENT));
    const spawnedAt = performance.now();
    const gateway = await startBenchGateway({
      dir: this.tmp,
      ports: this.#ports,
      agentContact: uas.address,
      agents: this.agents,
      maxCallsPerAgent: MAX_CALLS_PER_AGENT,
      media: mediaBlock,
      cpu: opt.gatewayCpu,
      nodeArgs: [
        ...(this.flags.cpuProf ? ['--cpu-prof', '--cpu-prof-dir', this.profileDir] : []),
        // A heap snapshot on SIGUSR2 (it runs a full GC first): the idle phase's last row.
        ...(this.flags.heapSnapshot ? heapSnapshotArgs(this.snapshotDir) : []),
      ],
      onLine: (line) => this.#onGatewayLine(line),
    });
    this.#gateway = gateway;
    this.#sampler = new ProcSampler(gateway.pid);
    void gateway.process.exited.then((exit) => {
      if (!this.#stopping) {
        this.#gatewayDied = `the gateway exited during the run (code ${exit.code}, signal ${exit.signal})\n${gateway.process.output(30)}`;
        progress(this.#gatewayDied);
      }
    });
    progress(
      `gateway pid ${gateway.pid} on ${gateway.sip} (${gateway.httpUrl}), UAS on ${uas.address}, ${this.agents} agents, ` +
        `media ports ${mediaBlock.base}-${mediaBlock.base + mediaBlock.size - 1}`,
    );
    this.profileSkipSeconds = (performance.now() - spawnedAt) / 1000;
  }

  /** Starts counting the gateway's warnings afresh: the record returned fills until the next call. */
  countWarnings(): Record<string, number> {
    this.#warnings = {};
    return this.#warnings;
  }

  /** Throws when the gateway exited while the run was not stopping it. */
  checkGatewayAlive(): void {
    if (this.#gatewayDied) throw new Error(this.#gatewayDied);
  }

  /** The gateway's gauges and memory from its /metrics, `atSeconds` after `startedAt`. */
  async snapshot(startedAt: number): Promise<GatewaySnapshot | undefined> {
    const gateway = this.#gateway;
    if (!gateway) return undefined;
    try {
      const text = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
      const read = (pattern: RegExp): number => {
        let total = 0;
        for (const match of text.matchAll(pattern)) total += Number(match[1]);
        return total;
      };
      return {
        atSeconds: Math.round((performance.now() - startedAt) / 1000),
        heapUsedBytes: read(/^parley_nodejs_heap_size_used_bytes\s+([0-9.e+]+)/gm),
        rssBytes: read(/^parley_process_resident_memory_bytes\s+([0-9.e+]+)/gm),
        calls: read(/^parley_calls_active\s+([0-9.e+]+)/gm),
        transactions: read(/^parley_sip_transactions\{[^}]*\}\s+([0-9.e+]+)/gm),
        dialogs: read(/^parley_sip_dialogs\s+([0-9.e+]+)/gm),
        mediaRouters: read(/^parley_media_routers\s+([0-9.e+]+)/gm),
      };
    } catch {
      return undefined;
    }
  }

  async heapUsed(): Promise<number | undefined> {
    const gateway = this.#gateway;
    if (!gateway) return undefined;
    try {
      const text = await (await fetch(`${gateway.httpUrl}/metrics`)).text();
      const value = /^parley_nodejs_heap_size_used_bytes\s+([0-9.e+]+)/m.exec(text)?.[1];
      return value === undefined ? undefined : Number(value);
    } catch {
      return undefined;
    }
  }

  /** Waits until the gateway holds no call (at most `ms`); returns how many it still holds. */
  async settle(ms = 10_000): Promise<number | undefined> {
    const gateway = this.#gateway;
    if (!gateway) return undefined;
    const deadline = Date.now() + ms;
    for (;;) {
      const health = await gateway.get<{ calls?: number }>('/healthz').catch(() => undefined);
      const calls = health?.calls;
      if (calls === 0 || calls === undefined || Date.now() > deadline) return calls;
      await sleep(200);
    }
  }

  /** A heap snapshot of the gateway (started with --heap-snapshot) in {@link snapshotDir}: the file, if written. */
  async takeHeapSnapshot(): Promise<string | undefined> {
    return this.#gateway ? takeHeapSnapshot(this.#gateway, this.snapshotDir) : undefined;
  }

  /** The gateway's state and last output lines, for a failure report. */
  describeGateway(): string | undefined {
    return this.#gateway?.process.describe(30);
  }

  /** Where the gateway's CPU went (--cpu-prof): the profile is written when it exits, so after {@link close}. */
  cpuProfile(): (ProfileSummary & { file: string }) | undefined {
    const dir = this.profileDir;
    const file = existsSync(dir)
      ? readdirSync(dir).find((f) => f.endsWith('.cpuprofile'))
      : undefined;
    if (!file) return undefined;
    return {
      ...summarizeCpuProfile(join(dir, file), { skipSeconds: this.profileSkipSeconds }),
      file: join(dir, file).slice(REPO_ROOT.length),
    };
  }

  /**
   * Stops the sampler, the UAS, the gateway, then every process the testkit
   * still runs (a UAC or a capture in flight at a timeout, the CLI's
   * watchdog), releases the media ports and removes the temp dir (not with --keep).
   */
  close(): Promise<void> {
    this.#closed ??= this.#close();
    return this.#closed;
  }

  async #close(): Promise<void> {
    this.#stopping = true;
    this.#sampler?.stop();
    await this.#uas?.stop().catch(() => undefined);
    await this.#gateway?.stop().catch(() => undefined);
    await stopAll();
    this.#mediaBlock?.release();
    if (!this.flags.keep) rmSync(this.tmp, { recursive: true, force: true });
  }

  #onGatewayLine(line: string): void {
    let entry: { level?: number; msg?: string; reason?: string } | undefined;
    try {
      entry = JSON.parse(line) as typeof entry;
    } catch {
      entry = undefined;
    }
    if (entry?.level !== undefined && entry.level < 40) return;
    const key =
      entry?.msg !== undefined
        ? `${entry.msg}${entry.reason ? ` (${entry.reason})` : ''}`
        : line.slice(0, 160);
    this.#warnings[key] = (this.#warnings[key] ?? 0) + 1;
    if (this.gatewayErrors.length < 50) this.gatewayErrors.push(line.slice(0, 2000));
  }
}
