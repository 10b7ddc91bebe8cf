/**
 * Child processes for peers (baresip, sipp, pocketsphinx …) that never outlive
 * the test:
 * - each child leads its own process group (`detached`), and stopping kills
 *   the whole group, so shell wrappers and grandchildren go too;
 * - on Linux the child also gets `PR_SET_PDEATHSIG=SIGKILL` (through
 *   util-linux `setpriv --pdeathsig`), so even a SIGKILLed test runner takes
 *   its peers with it;
 * - a process `exit` hook SIGKILLs every group still alive, and `stopAll()`
 *   is there for `afterAll`/`afterEach`;
 * - the last lines of output are kept in a ring buffer for failure messages.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync } from 'node:fs';
import { basename } from 'node:path';
import type { Writable } from 'node:stream';

import { onProcessExit } from './cleanup.js';
import { TestkitError } from './testkit-error.js';

export type OutputStream = 'stdout' | 'stderr';

export interface ManagedProcessOptions {
  readonly command: string;
  readonly args?: readonly string[];
  readonly cwd?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Shown in errors and `describe()`. Default: the command's base name. */
  readonly name?: string;
  /** Output lines kept for failure messages. Default 1000. */
  readonly maxLines?: number;
  /** `pipe` to write to the child's stdin; default `ignore` (/dev/null). */
  readonly stdin?: 'ignore' | 'pipe';
  /** Every raw chunk of output, as it arrives. */
  readonly onOutput?: (chunk: string, stream: OutputStream) => void;
  /** Kill the child when this process dies, however it dies. Default true. */
  readonly dieWithParent?: boolean;
}

export interface ExitInfo {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Set when the process could not be started. */
  readonly error?: Error;
}

export interface StopOptions {
  /** First signal. Default SIGTERM. */
  readonly signal?: NodeJS.Signals;
  /** How long to wait before SIGKILL. Default 2000 ms. */
  readonly graceMs?: number;
}

export interface ManagedProcess {
  readonly name: string;
  /** Undefined only when the spawn itself failed. */
  readonly pid: number | undefined;
  readonly running: boolean;
  /** Resolves once the child has exited (never rejects). */
  readonly exited: Promise<ExitInfo>;
  readonly exitInfo: ExitInfo | undefined;
  /** The child's stdin when started with `stdin: 'pipe'`. */
  readonly stdin: Writable | null;
  /** The last `lines` lines of stdout and stderr, interleaved as they came. */
  output(lines?: number): string;
  /** Resolves with the first output line (past or future) matching `pattern`. */
  waitForOutput(pattern: RegExp | string, timeoutMs?: number): Promise<string>;
  /** Sends a signal to the whole process group. */
  signal(signal: NodeJS.Signals): void;
  /** Signal, wait `graceMs`, SIGKILL the group; resolves when exited. Safe to call twice. */
  stop(options?: StopOptions): Promise<ExitInfo>;
  /** Name, pid, exit status and the output tail, for an assertion message. */
  describe(lines?: number): string;
}

const SETPRIV = '/usr/bin/setpriv';
const live = new Set<ManagedProcessImpl>();

/**
 * Signals the group led by `pid`. `orLeader`: fall back to the pid itself (a
 * child that left its group); never after the leader was reaped, when the pid
 * may already belong to someone else.
 */
function killGroup(pid: number | undefined, signal: NodeJS.Signals, orLeader = true): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    if (!orLeader) return;
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}

class ManagedProcessImpl implements ManagedProcess {
  readonly name: string;
  readonly exited: Promise<ExitInfo>;
  readonly #child: ChildProcess;
  readonly #maxLines: number;
  readonly #lines: string[] = [];
  readonly #partial: Record<OutputStream, string> = { stdout: '', stderr: '' };
  readonly #lineEvents = new EventEmitter<{ line: [string] }>();
  readonly #removeExitHook: () => void;
  #exitInfo: ExitInfo | undefined;
  #stopping: Promise<ExitInfo> | undefined;

  constructor(options: ManagedProcessOptions) {
    this.name = options.name ?? basename(options.command);
    this.#maxLines = options.maxLines ?? 1000;
    this.#lineEvents.setMaxListeners(0);
    const args = options.args ?? [];
    const wrap =
      (options.dieWithParent ?? true) && process.platform === 'linux' && existsSync(SETPRIV);
    const command = wrap ? SETPRIV : options.command;
    const argv = wrap ? ['--pdeathsig', 'KILL', '--', options.command, ...args] : [...args];
    this.#child = spawn(command, argv, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      detached: true,
      stdio: [options.stdin ?? 'ignore', 'pipe', 'pipe'],
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const readable = this.#child[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (chunk: string) => {
        options.onOutput?.(chunk, stream);
        this.#take(stream, chunk);
      });
    }
    this.exited = new Promise<ExitInfo>((resolve) => {
      const finish = (info: ExitInfo): void => {
        if (this.#exitInfo) return;
        this.#flush();
        this.#exitInfo = info;
        live.delete(this);
        this.#removeExitHook();
        resolve(info);
      };
      this.#child.once('error', (error) => finish({ code: null, signal: null, error }));
      this.#child.once('exit', (code, signal) => {
        // Grandchildren left in the group die with the leader; they may also be
        // what keeps the pipes open, so 'close' can only come after this.
        killGroup(this.#child.pid, 'SIGKILL', false);
        const late = setTimeout(() => finish({ code, signal }), 2000);
        this.#child.once('close', () => {
          clearTimeout(late);
          finish({ code, signal });
        });
      });
    });
    live.add(this);
    this.#removeExitHook = onProcessExit(() => killGroup(this.#child.pid, 'SIGKILL'));
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  get running(): boolean {
    return this.#exitInfo === undefined && this.#child.pid !== undefined;
  }

  get exitInfo(): ExitInfo | undefined {
    return this.#exitInfo;
  }

  get stdin(): Writable | null {
    return this.#child.stdin;
  }

  output(lines = this.#maxLines): string {
    const partial = [this.#partial.stdout, this.#partial.stderr].filter((p) => p.length > 0);
    return [...this.#lines, ...partial].slice(-lines).join('\n');
  }

  waitForOutput(pattern: RegExp | string, timeoutMs = 10_000): Promise<string> {
    const matches = (line: string): boolean =>
      typeof pattern === 'string' ? line.includes(pattern) : pattern.test(line);
    const past = this.#lines.find(matches);
    if (past !== undefined) return Promise.resolve(past);
    return new Promise((resolve, reject) => {
      const cleanup = (): void => {
        clearTimeout(timer);
        this.#lineEvents.off('line', onLine);
      };
      const onLine = (line: string): void => {
        if (!matches(line)) return;
        cleanup();
        resolve(line);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(
          new TestkitError(
            'timeout',
            `no output matching ${String(pattern)} within ${timeoutMs} ms\n${this.describe(40)}`,
          ),
        );
      }, timeoutMs);
      this.#lineEvents.on('line', onLine);
      void this.exited.then(() => {
        if (!this.#lineEvents.listeners('line').includes(onLine)) return;
        cleanup();
        reject(
          new TestkitError(
            'process_exited',
            `exited before printing ${String(pattern)}\n${this.describe(40)}`,
          ),
        );
      });
    });
  }

  signal(signal: NodeJS.Signals): void {
    if (this.running) killGroup(this.#child.pid, signal);
  }

  stop(options: StopOptions = {}): Promise<ExitInfo> {
    if (this.#exitInfo) return Promise.resolve(this.#exitInfo);
    this.#stopping ??= (async () => {
      this.signal(options.signal ?? 'SIGTERM');
      const grace = options.graceMs ?? 2000;
      let timer: NodeJS.Timeout | undefined;
      const timedOut = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), grace);
      });
      const first = await Promise.race([this.exited, timedOut]);
      clearTimeout(timer);
      if (first === 'timeout') killGroup(this.#child.pid, 'SIGKILL');
      return this.exited;
    })();
    return this.#stopping;
  }

  describe(lines = 60): string {
    const status = this.#exitInfo
      ? `exited code=${this.#exitInfo.code} signal=${this.#exitInfo.signal}${this.#exitInfo.error ? ` error=${this.#exitInfo.error.message}` : ''}`
      : 'running';
    return `[${this.name} pid=${this.pid ?? '-'} ${status}] last output:\n${this.output(lines)}`;
  }

  #take(stream: OutputStream, chunk: string): void {
    const text = this.#partial[stream] + chunk;
    const parts = text.split('\n');
    this.#partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.#push(line);
  }

  #flush(): void {
    for (const stream of ['stdout', 'stderr'] as const) {
      if (this.#partial[stream].length > 0) this.#push(this.#partial[stream]);
      this.#partial[stream] = '';
    }
  }

  #push(rawLine: string): void {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    this.#lines.push(line);
    if (this.#lines.length > this.#maxLines)
      this.#lines.splice(0, this.#lines.length - this.#maxLines);
    this.#lineEvents.emit('line', line);
  }
}

/** Starts a child process that is cleaned up however the test ends. */
export function spawnManaged(options: ManagedProcessOptions): ManagedProcess {
  return new ManagedProcessImpl(options);
}

/** Every managed process still running in this process. */
export function liveProcesses(): readonly ManagedProcess[] {
  return [...live];
}

/**
 * Stops every managed process still running (SIGTERM, then SIGKILL after
 * `graceMs`). Use as `afterAll(stopAll)`; peers' own `stop()` is gentler.
 */
export async function stopAll(options: StopOptions = {}): Promise<void> {
  await Promise.all([...live].map((p) => p.stop({ graceMs: 1000, ...options })));
}

/** Runs a command to completion and returns its output; rejects on a non-zero exit. */
export async function runCommand(
  command: string,
  args: readonly string[],
  options: {
    readonly cwd?: string;
    readonly timeoutMs?: number;
    readonly allowFailure?: boolean;
  } = {},
): Promise<{ readonly code: number | null; readonly stdout: string; readonly stderr: string }> {
  let stdout = '';
  let stderr = '';
  const child = spawnManaged({
    command,
    args,
    cwd: options.cwd,
    maxLines: 50,
    onOutput: (chunk, stream) => {
      if (stream === 'stdout') stdout += chunk;
      else stderr += chunk;
    },
  });
  const timeoutMs = options.timeoutMs ?? 30_000;
  const timer = setTimeout(() => void child.stop({ signal: 'SIGKILL' }), timeoutMs);
  const info = await child.exited;
  clearTimeout(timer);
  if (info.error) {
    throw new TestkitError('spawn_failed', `${command}: ${info.error.message}`, {
      cause: info.error,
    });
  }
  if (info.code !== 0 && !options.allowFailure) {
    throw new TestkitError(
      'tool_failed',
      `${command} ${args.join(' ')} failed (code=${info.code} signal=${info.signal}):\n${stderr.slice(-2000)}`,
    );
  }
  return { code: info.code, stdout, stderr };
}
