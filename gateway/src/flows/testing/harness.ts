/**
 * A flow runner over fakes, for tests and the runner benchmark: flows are
 * given as JSON verbs (checked and defaulted by the real schema), events are
 * collected, prompts come from a temporary directory.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlowEvent } from '@parley/shared/protocol';
import { createLogger } from '../../observability/index.js';
import { fanOut, type FlowEventSink } from '../events.js';
import type { WaitingQueues } from '../queue-port.js';
import { FlowRunner } from '../runner.js';
import type { FlowLimits } from '../run.js';
import { PromptLoader, type PromptSettings } from '../runtime/prompts.js';
import { FlowCatalog } from '../sources/catalog.js';
import { configSource, type FlowSource } from '../sources/source.js';
import { parseVerbs, type Verb } from '../verbs/schema.js';
import { FakeSpeech } from './fake-call.js';

/** A minimal valid WAV header (and no samples): what the loader checks. */
export function wavBytes(): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36, 4);
  header.write('WAVE', 8, 'latin1');
  header.write('fmt ', 12, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(8000, 24);
  header.writeUInt32LE(16000, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  return header;
}

/** Parses JSON verbs with the real schema (defaults applied); throws on a bad flow (a test bug). */
export function parse(list: unknown[]): Verb[] {
  const parsed = parseVerbs(list);
  if (!parsed.ok) throw new Error(`bad test flow: ${parsed.detail}`);
  return parsed.verbs;
}

export class EventLog implements FlowEventSink {
  readonly events: FlowEvent[] = [];
  readonly #waiters: { match: (e: FlowEvent) => boolean; resolve: (e: FlowEvent) => void }[] = [];

  event(event: FlowEvent): void {
    this.events.push(event);
    for (const waiter of [...this.#waiters]) {
      if (waiter.match(event)) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve(event);
      }
    }
  }

  /** The first event (past or future) that matches. */
  when(match: (e: FlowEvent) => boolean): Promise<FlowEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }

  of<T extends FlowEvent['type']>(type: T): Extract<FlowEvent, { type: T }>[] {
    return this.events.filter((e): e is Extract<FlowEvent, { type: T }> => e.type === type);
  }

  /** `say:completed`, `gather:timeout`, `play:error:prompt_unavailable`: a run in one line. */
  summary(): string[] {
    return this.events.flatMap((e) => {
      if (e.type === 'verb.result') return [`${e.verb}:${e.result.status}`];
      if (e.type === 'verb.error') return [`${e.verb}:error:${e.error.code}`];
      return [];
    });
  }
}

export interface HarnessOptions {
  readonly flows?: Readonly<Record<string, unknown[]>>;
  readonly sources?: readonly FlowSource[];
  readonly queues?: WaitingQueues;
  readonly speech?: FakeSpeech;
  readonly prompts?: Partial<PromptSettings>;
  readonly limits?: Partial<FlowLimits>;
  readonly fetch?: typeof fetch;
  /** More sinks beside the event log (a store under test). */
  readonly sinks?: readonly FlowEventSink[];
}

export function harness(options: HarnessOptions = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'parley-flows-'));
  const promptsDir = join(dir, 'prompts');
  const recordingsDir = join(dir, 'recordings');
  const log = new EventLog();
  const speech = options.speech ?? new FakeSpeech();
  const sources = [
    ...Object.entries(options.flows ?? {}).map(([name, list]) => configSource(name, parse(list))),
    ...(options.sources ?? []),
  ];
  const prompts = new PromptLoader(
    {
      dirs: [promptsDir],
      urls: [],
      fetchTimeoutMs: 2000,
      maxBytes: 1_000_000,
      cacheSeconds: 60,
      ...options.prompts,
    },
    options.fetch ? { fetch: options.fetch } : {},
  );
  const runner = new FlowRunner({
    catalog: new FlowCatalog(sources),
    speech,
    prompts,
    queues: options.queues,
    recordingsDir,
    sink: options.sinks ? fanOut([log, ...options.sinks]) : log,
    logger: createLogger('silent'),
    ...(options.limits ? { limits: options.limits } : {}),
  });
  return {
    runner,
    log,
    speech,
    prompts,
    dir,
    promptsDir,
    recordingsDir,
    /** Writes a prompt file (a WAV header, or any bytes). */
    writePrompt(name: string, bytes: Buffer = wavBytes()): string {
      mkdirSync(promptsDir, { recursive: true });
      const path = join(promptsDir, name);
      writeFileSync(path, bytes);
      return path;
    },
  };
}
