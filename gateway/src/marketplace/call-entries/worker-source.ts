/**
 * A call-entries body parsed on a thread of its own (`parse-worker.ts`), so
 * that reading and checking chunk N+1 runs on another core while the
 * gateway's thread matches chunk N in its SQLite transaction (`ingest.ts`
 * keeps one chunk in flight). The gateway's thread still reads the body from
 * the socket and hands each piece over (transferred, not copied twice) when
 * the thread asks for more; items come back checked (all but the clock's rule,
 * applied here by `ingest`) in compact messages (`parse-wire.ts`). One thread a
 * batch, ended with it. A thread that dies mid-batch ends the batch with
 * `entries_interrupted`, after what it had sent is matched and answered.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { readWire, type WireItem, type WireItems } from './parse-wire.js';
import type { BodyFormat } from './sources.js';

/** The gateway's thread to the parsing thread. */
export type ToParser =
  | { readonly type: 'body'; readonly bytes: Uint8Array }
  | { readonly type: 'end' }
  | { readonly type: 'ack' };

/** The parsing thread to the gateway's. */
type FromParser =
  | WireItems
  | { readonly type: 'more' }
  | { readonly type: 'done' }
  | { readonly type: 'batch-error'; readonly at: string; readonly reason: string };

/** What the batch's reader yields on this path: items checked, rows unread, or where reading stopped. */
export type ParsedItem =
  | WireItem
  | {
      readonly kind: 'batch-error';
      readonly at: string;
      readonly reason: string;
      readonly code?: 'entries_interrupted';
    };

/**
 * The thread's module beside this one: from the build `parse-worker.js`; from
 * the sources (tsx, Vitest) `parse-worker.ts` through tsx's `require` hook,
 * registered in the thread (Node 20 does not run `--import` hooks in threads,
 * and Vitest's transform stays in its own).
 */
function startThread(format: BodyFormat): Worker {
  const workerData = { format };
  if (!import.meta.url.endsWith('.ts'))
    return new Worker(new URL('./parse-worker.js', import.meta.url), { workerData });
  const tsx = createRequire(import.meta.url).resolve('tsx/cjs/api');
  const entry = fileURLToPath(new URL('./parse-worker.ts', import.meta.url));
  return new Worker(
    `require(${JSON.stringify(tsx)}).register(); require(${JSON.stringify(entry)});`,
    { eval: true, workerData },
  );
}

/** A piece of the body as its own buffer (a pooled Buffer's memory is not transferred). */
function own(piece: Buffer | string): Uint8Array {
  if (typeof piece === 'string') return new TextEncoder().encode(piece);
  return piece.byteOffset === 0 && piece.byteLength === piece.buffer.byteLength
    ? piece
    : new Uint8Array(piece);
}

export interface ParseThreadOptions {
  /** Given the thread once started (tests end it mid-batch). */
  readonly onThread?: (thread: Worker) => void;
}

export async function* readEntriesInThread(
  body: Readable,
  format: BodyFormat,
  o: ParseThreadOptions = {},
): AsyncGenerator<ParsedItem> {
  const thread = startThread(format);
  o.onThread?.(thread);
  const inbox: FromParser[] = [];
  let wake: (() => void) | undefined;
  let stopped: string | undefined;
  // The body flows while the thread asks for pieces (one a `more`), and is paused otherwise.
  let asked = 0;
  const onData = (piece: Buffer | string) => {
    const bytes = own(piece);
    thread.postMessage({ type: 'body', bytes } satisfies ToParser, [bytes.buffer as ArrayBuffer]);
    asked -= 1;
    if (asked <= 0) body.pause();
  };
  const onEnd = () => thread.postMessage({ type: 'end' } satisfies ToParser);
  const onError = (error: Error) => {
    stopped ??= `the body could not be read: ${error.message}`;
    wake?.();
  };
  body.pause();
  body.on('data', onData).once('end', onEnd).once('error', onError);
  const deliver = (m: FromParser) => {
    if (m.type === 'more') {
      asked += 1;
      if (body.isPaused()) body.resume();
      return;
    }
    inbox.push(m);
    wake?.();
  };
  thread.on('message', deliver);
  thread.on('error', (error) => {
    stopped ??= `the parsing thread failed: ${error.message}`;
    wake?.();
  });
  thread.on('exit', (code) => {
    stopped ??= `the parsing thread stopped (exit code ${code})`;
    wake?.();
  });
  try {
    for (;;) {
      const m = inbox.shift();
      if (!m) {
        if (stopped !== undefined) {
          yield { kind: 'batch-error', at: 'body', reason: stopped, code: 'entries_interrupted' };
          return;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
        continue;
      }
      if (m.type === 'done') return;
      if (m.type === 'items') {
        thread.postMessage({ type: 'ack' } satisfies ToParser);
        yield* readWire(m);
      } else if (m.type === 'batch-error') {
        yield { kind: 'batch-error', at: m.at, reason: m.reason };
        return;
      }
    }
  } finally {
    stopped ??= 'the batch ended';
    thread.off('message', deliver);
    void thread.terminate();
    body.off('data', onData).off('end', onEnd);
    // What the parser did not read is drained, so that the answer can be sent (as `sources.ts` does).
    body.resume();
  }
}
