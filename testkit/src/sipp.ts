/**
 * sipp 3.6.1 runs: one-shot (`runSipp`, resolves when sipp exits) or
 * long-running UAS/registrar instances (`startSipp`, stopped by `stop()`).
 *
 * Every instance gets its own working directory, SIP port, media port block
 * (`-mp`; rtp_stream and rtp_echo take ports upwards from it) and control
 * port (`-cp`, bound to 127.0.0.1 with `-ci`): sipp's defaults (6000, 0.0.0.0:8888)
 * collide between instances. `-bind_local` keeps the SIP socket on 127.0.0.1.
 * Stats come from `-trace_stat`, response times from `-trace_rtt`, protocol
 * errors from `-trace_err`, messages from `-trace_msg` (all files in the
 * working directory).
 *
 * sipp's exit codes: 0 all calls succeeded, 1 at least one failed, 97 exit
 * on an internal command, 99 normal exit without calls processed,
 * 255 fatal error.
 */
import {
  copyFileSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs';
import { rm } from 'node:fs/promises';
import * as dgram from 'node:dgram';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

import { type PortAllocator, type PortBlock, defaultPortAllocator } from './ports.js';
import { type ManagedProcess, spawnManaged } from './process.js';
import { portListening } from './socket-table.js';
import type { ScenarioFile } from './scenarios.js';
import {
  type SippRttSample,
  type SippStats,
  emptySippStats,
  parseSippRtt,
  parseSippStats,
} from './sipp-stats.js';
import { TestkitError } from './testkit-error.js';

export type { SippRttSample, SippStats } from './sipp-stats.js';

/** A scenario built into sipp (`-sn`), or an XML file (`-sf`) with the files it needs. */
export type SippScenario =
  | { readonly builtin: 'uac' | 'uas' | 'uac_pcap' | 'regexp' | 'branchc' | 'branchs' }
  | ScenarioFile;

export type SippInjection =
  | {
      /** One row per call; fields become [field0], [field1], … */
      readonly rows: readonly (readonly string[])[];
      /** Default SEQUENTIAL. */
      readonly order?: 'SEQUENTIAL' | 'RANDOM' | 'USER';
    }
  | { readonly file: string };

export interface SippOptions {
  readonly scenario: SippScenario;
  /** `host:port` to send to (UAC). */
  readonly remote?: string;
  /** Request-URI user, `-s`. Default sipp's `service`. */
  readonly service?: string;
  /** Local SIP address, default 127.0.0.1 (`-i`, also media `-mi`, with `-bind_local`). */
  readonly address?: string;
  /** `-p`; default a free port. */
  readonly localPort?: number;
  /** Default udp (`-t u1`); tcp is `-t t1`. */
  readonly transport?: 'udp' | 'tcp';
  /** First media port (`-mp`); default the start of a free block of `mediaPortCount`. */
  readonly mediaPort?: number;
  /** Ports reserved from `mediaPort` up. Default 4 × concurrency + 4 (8 … 400). */
  readonly mediaPortCount?: number;
  /** `-cp`; default a free port. */
  readonly controlPort?: number;
  /** Calls per second, `-r`. */
  readonly rate?: number;
  /** `-rp`, in ms. */
  readonly ratePeriodMs?: number;
  /** Stop after this many calls, `-m`. */
  readonly calls?: number;
  /** Simultaneous calls at most, `-l`. */
  readonly concurrency?: number;
  /** Pause length for `<pause/>` steps, `-d` (ms). */
  readonly callDurationMs?: number;
  /** Lose this percentage of packets sent, `-lost`. */
  readonly lostPercent?: number;
  /** Echo RTP on the media port, `-rtp_echo`. */
  readonly rtpEcho?: boolean;
  /** `-inf`: rows written to a CSV, or a ready file. */
  readonly injection?: SippInjection;
  /** `-set name value` (scenario variables `[$name]`). */
  readonly variables?: Readonly<Record<string, string>>;
  /** `-key name value` (keywords `[name]`). */
  readonly keys?: Readonly<Record<string, string>>;
  /** Extra files for the working directory, name there → source path. */
  readonly files?: Readonly<Record<string, string>>;
  /**
   * Hard limit: sipp gets `-timeout` and is killed a little after it.
   * Default 60 s for runSipp, none for startSipp.
   */
  readonly timeoutMs?: number;
  /** `-recv_timeout`, ms. */
  readonly recvTimeoutMs?: number;
  /** `-trace_msg` into messages.log. Default: on when `calls` ≤ 100. */
  readonly traceMessages?: boolean;
  readonly extraArgs?: readonly string[];
  /** Default a fresh directory under the OS temp dir. */
  readonly workDir?: string;
  /** Keep the working directory afterwards. Default false. */
  readonly keepWorkDir?: boolean;
  readonly ports?: PortAllocator;
  readonly name?: string;
}

export interface SippResult {
  /** See the exit codes above; null when killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Totals from the last `-trace_stat` row (zeros if sipp died before writing one). */
  readonly stats: SippStats;
  /** One sample per `rtd` measure per call. */
  readonly rtt: readonly SippRttSample[];
  /** The tail of sipp's stdout and stderr. */
  readonly output: string;
  /** `-trace_err`: unexpected messages and aborted calls. */
  readonly errors: string;
  /** `-trace_msg`, when on. */
  readonly messages: string;
  /** `-trace_logs`: `<log>` actions. */
  readonly logs: string;
  readonly args: readonly string[];
  readonly workDir: string;
}

export interface SippInstance {
  /** `127.0.0.1:port` to send SIP to. */
  readonly address: string;
  readonly localPort: number;
  readonly mediaPort: number;
  readonly controlPort: number;
  readonly workDir: string;
  readonly process: ManagedProcess;
  /** Resolves when sipp exits by itself or is stopped. */
  readonly result: Promise<SippResult>;
  /** Messages so far (`-trace_msg`). */
  messages(): string;
  /** Stats so far (written every second). */
  stats(): SippStats | undefined;
  /** Sends a remote-control command over UDP (`q` quit softly, `Q` at once, `p` pause, `*`/`/` rate). */
  control(command: string): Promise<void>;
  /** `Q` over the control port, SIGTERM after 300 ms, SIGKILL after `graceMs` more (default 2000). */
  stop(options?: { readonly graceMs?: number }): Promise<SippResult>;
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}

interface Prepared {
  readonly args: string[];
  readonly workDir: string;
  readonly localPort: number;
  readonly mediaPort: number;
  readonly controlPort: number;
  readonly blocks: PortBlock[];
  readonly timeoutMs: number | undefined;
}

async function prepare(
  options: SippOptions,
  defaultTimeoutMs: number | undefined,
): Promise<Prepared> {
  const ports = options.ports ?? defaultPortAllocator();
  const address = options.address ?? '127.0.0.1';
  const blocks: PortBlock[] = [];
  try {
    const take = async (
      size: number,
      protocols: readonly ('udp' | 'tcp')[],
      even: boolean,
    ): Promise<number> => {
      const block = await ports.allocate(size, { protocols, even });
      blocks.push(block);
      return block.base;
    };
    const transport = options.transport ?? 'udp';
    const localPort = options.localPort ?? (await take(1, [transport], false));
    const concurrency = options.concurrency ?? options.calls ?? 1;
    const mediaCount = options.mediaPortCount ?? Math.min(400, Math.max(8, 4 * concurrency + 4));
    const mediaPort = options.mediaPort ?? (await take(mediaCount, ['udp'], true));
    const controlPort = options.controlPort ?? (await take(1, ['udp'], false));

    const workDir = options.workDir ?? mkdtempSync(join(tmpdir(), 'parley-sipp-'));
    const scenario = options.scenario;
    const scenarioArgs =
      'builtin' in scenario ? ['-sn', scenario.builtin] : ['-sf', resolve(scenario.file)];
    const files = { ...('builtin' in scenario ? {} : scenario.files), ...options.files };
    for (const [name, source] of Object.entries(files)) copyFileSync(source, join(workDir, name));

    const args: string[] = [...scenarioArgs];
    if (options.remote) args.push(options.remote);
    args.push('-i', address, '-mi', address, '-bind_local', '-p', String(localPort));
    args.push('-t', transport === 'tcp' ? 't1' : 'u1');
    args.push('-mp', String(mediaPort), '-ci', '127.0.0.1', '-cp', String(controlPort));
    args.push('-nostdin');
    if (options.service !== undefined) args.push('-s', options.service);
    if (options.rate !== undefined) args.push('-r', String(options.rate));
    if (options.ratePeriodMs !== undefined) args.push('-rp', `${options.ratePeriodMs}ms`);
    if (options.calls !== undefined) args.push('-m', String(options.calls));
    if (options.concurrency !== undefined) args.push('-l', String(options.concurrency));
    if (options.callDurationMs !== undefined) args.push('-d', String(options.callDurationMs));
    if (options.lostPercent !== undefined) args.push('-lost', String(options.lostPercent));
    if (options.rtpEcho) args.push('-rtp_echo');
    if (options.recvTimeoutMs !== undefined)
      args.push('-recv_timeout', `${options.recvTimeoutMs}ms`);
    const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
    if (timeoutMs !== undefined) args.push('-timeout', `${Math.ceil(timeoutMs / 1000)}s`);
    if (options.injection) {
      let file: string;
      if ('file' in options.injection) {
        file = isAbsolute(options.injection.file)
          ? options.injection.file
          : resolve(options.injection.file);
      } else {
        file = join(workDir, 'injection.csv');
        const rows = options.injection.rows.map((row) => `${row.join(';')};`);
        writeFileSync(file, [options.injection.order ?? 'SEQUENTIAL', ...rows, ''].join('\n'));
      }
      args.push('-inf', file);
    }
    for (const [name, value] of Object.entries(options.variables ?? {}))
      args.push('-set', name, value);
    for (const [name, value] of Object.entries(options.keys ?? {})) args.push('-key', name, value);
    args.push('-trace_stat', '-stf', join(workDir, 'stats.csv'), '-fd', '1');
    args.push('-trace_rtt', '-rtt_freq', '1');
    args.push('-trace_err', '-error_file', join(workDir, 'errors.log'));
    args.push('-trace_logs', '-log_file', join(workDir, 'logs.log'));
    if (options.traceMessages ?? (options.calls ?? 1) <= 100) {
      args.push('-trace_msg', '-message_file', join(workDir, 'messages.log'));
    }
    args.push(...(options.extraArgs ?? []));
    return { args, workDir, localPort, mediaPort, controlPort, blocks, timeoutMs };
  } catch (error) {
    for (const block of blocks) block.release();
    throw error;
  }
}

function collect(prepared: Prepared, child: ManagedProcess): SippResult {
  const { workDir } = prepared;
  const rttFile = (() => {
    try {
      return readdirSync(workDir).find((name) => name.endsWith('_rtt.csv'));
    } catch {
      return undefined;
    }
  })();
  return {
    exitCode: child.exitInfo?.code ?? null,
    signal: child.exitInfo?.signal ?? null,
    stats: parseSippStats(readIfExists(join(workDir, 'stats.csv'))) ?? emptySippStats(),
    rtt: rttFile ? parseSippRtt(readIfExists(join(workDir, rttFile))) : [],
    output: child.output(200),
    errors: readIfExists(join(workDir, 'errors.log')),
    messages: readIfExists(join(workDir, 'messages.log')),
    logs: readIfExists(join(workDir, 'logs.log')),
    args: prepared.args,
    workDir,
  };
}

function launch(prepared: Prepared, options: SippOptions): ManagedProcess {
  return spawnManaged({
    command: 'sipp',
    args: prepared.args,
    cwd: prepared.workDir,
    name: options.name ?? `sipp:${prepared.localPort}`,
    maxLines: 300,
  });
}

async function finish(
  prepared: Prepared,
  options: SippOptions,
  child: ManagedProcess,
): Promise<SippResult> {
  await child.exited;
  const result = collect(prepared, child);
  for (const block of prepared.blocks) block.release();
  if (!options.keepWorkDir && !options.workDir)
    await rm(prepared.workDir, { recursive: true, force: true });
  return result;
}

/** Runs sipp to completion (or `timeoutMs`, default 60 s) and returns its stats. */
export async function runSipp(options: SippOptions): Promise<SippResult> {
  const prepared = await prepare(options, 60_000);
  const child = launch(prepared, options);
  const limit = (prepared.timeoutMs ?? 60_000) + 5000;
  const timer = setTimeout(() => void child.stop({ signal: 'SIGKILL' }), limit);
  try {
    return await finish(prepared, options, child);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * True once sipp holds its SIP port. Read from the kernel's socket table: a
 * probe that binds the port itself would hold it for a moment, and a sipp
 * binding in that moment fails with "address already in use".
 */
function portBound(transport: 'udp' | 'tcp', port: number): boolean {
  return portListening(transport, port);
}

/**
 * Starts a long-running sipp (a UAS, the stand-in registrar, a background
 * load) and resolves once its SIP port is bound.
 */
export async function startSipp(options: SippOptions): Promise<SippInstance> {
  const prepared = await prepare(options, undefined);
  const child = launch(prepared, options);
  const address = options.address ?? '127.0.0.1';
  const transport = options.transport ?? 'udp';
  const result = finish(prepared, options, child);
  const deadline = Date.now() + 5000;
  while (!portBound(transport, prepared.localPort)) {
    if (!child.running || Date.now() > deadline) {
      await child.stop({ signal: 'SIGKILL' });
      const failed = await result;
      throw new TestkitError(
        child.running ? 'timeout' : 'process_exited',
        `sipp did not start listening on ${address}:${prepared.localPort} (exit ${failed.exitCode})\n${failed.output}\n${failed.errors}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  const control = (command: string): Promise<void> =>
    new Promise((resolveSent, reject) => {
      const socket = dgram.createSocket('udp4');
      socket.send(command, prepared.controlPort, '127.0.0.1', (error) => {
        socket.close();
        if (error) reject(error);
        else resolveSent();
      });
    });
  let stopping: Promise<SippResult> | undefined;
  return {
    address: `${address}:${prepared.localPort}`,
    localPort: prepared.localPort,
    mediaPort: prepared.mediaPort,
    controlPort: prepared.controlPort,
    workDir: prepared.workDir,
    process: child,
    result,
    messages: () => readIfExists(join(prepared.workDir, 'messages.log')),
    stats: () => parseSippStats(readIfExists(join(prepared.workDir, 'stats.csv'))),
    control,
    stop: (stopOptions = {}) => {
      stopping ??= (async () => {
        if (child.running) {
          // `Q` ends an idle sipp at once, but not one holding a looping call
          // (the registrar): that one only leaves on SIGTERM, which still
          // writes the final stats.
          await control('Q').catch(() => undefined);
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            child.exited,
            new Promise((r) => {
              timer = setTimeout(r, 300);
            }),
          ]);
          clearTimeout(timer);
          await child.stop({ signal: 'SIGTERM', graceMs: stopOptions.graceMs ?? 2000 });
        }
        return result;
      })();
      return stopping;
    },
  };
}

/** True when sipp is installed. */
export function sippAvailable(): boolean {
  return existsSync('/usr/bin/sipp');
}
