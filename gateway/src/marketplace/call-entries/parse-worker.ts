/**
 * The parsing thread of one call-entries batch (`worker-source.ts` starts
 * it): the body's bytes come in as the gateway's thread reads them (asked for
 * with `more`, so at most {@link BODY_AHEAD} bytes wait here), are read
 * (`sources.ts`) and checked by every rule but the clock's (`entry.ts`), and go
 * back in messages of up to 512 items (`parse-wire.ts`). At most
 * {@link MESSAGES_AHEAD} messages are unacknowledged: the thread waits for the
 * gateway's thread to take them, so memory stays bounded whatever the batch.
 * Kept small: it loads the readers and the checks, nothing of the gateway else.
 */
import { Readable } from 'node:stream';
import { parentPort, workerData } from 'node:worker_threads';
import { checkEntry } from './entry.js';
import { WIRE_ITEMS, WireWriter } from './parse-wire.js';
import { readEntries, type BodyFormat } from './sources.js';
import type { ToParser } from './worker-source.js';

/** Bytes of the body read ahead of the parser. */
const BODY_AHEAD = 1 << 20;
/** Messages of items sent and not yet taken (4 × 512: one chunk of `ingest.ts`). */
const MESSAGES_AHEAD = 4;

if (!parentPort) throw new Error('parse-worker.ts runs as a worker thread');
const port = parentPort;
const format = (workerData as { format: BodyFormat }).format;

const body = new Readable({
  highWaterMark: BODY_AHEAD,
  read() {
    port.postMessage({ type: 'more' });
  },
});
let unacknowledged = 0;
let acknowledged: (() => void) | undefined;
port.on('message', (m: ToParser) => {
  if (m.type === 'body')
    body.push(Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength));
  else if (m.type === 'end') body.push(null);
  else {
    unacknowledged -= 1;
    acknowledged?.();
    acknowledged = undefined;
  }
});

const writer = new WireWriter();
const send = async (): Promise<void> => {
  if (writer.count === 0) return;
  const { message, transfer } = writer.take();
  port.postMessage(message, transfer);
  unacknowledged += 1;
  while (unacknowledged >= MESSAGES_AHEAD)
    await new Promise<void>((resolve) => (acknowledged = resolve));
};

/** The body read and checked, its items sent (a top-level `await` cannot load through tsx's `require` hook). */
async function parse(): Promise<void> {
  for await (const item of readEntries(body, format)) {
    if (item.kind === 'batch-error') {
      await send();
      port.postMessage({ type: 'batch-error', at: item.at, reason: item.reason });
      break;
    }
    writer.add(
      item.kind === 'value'
        ? { kind: 'checked', at: item.at, checked: checkEntry(item.value) }
        : item,
    );
    if (writer.count >= WIRE_ITEMS) await send();
  }
  await send();
  port.postMessage({ type: 'done' });
}

// A failure ends the thread with it (the gateway's thread ends the batch with `entries_interrupted`).
void parse();
