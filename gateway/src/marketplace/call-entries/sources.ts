/**
 * Call entries from a request body, streamed: CSV (csv-parse), a JSON array
 * (stream-json), NDJSON (one JSON object per line) or one JSON object. Items
 * come out one at a time with where they were (`row N` of a CSV, counted after
 * the header; `line N` of NDJSON; `entry N` of a JSON array, from 0); a problem the
 * reader cannot get past (broken quoting, a bad header, malformed JSON) ends
 * the stream with a batch error that says where.
 */
import { createInterface } from 'node:readline';
import { Readable } from 'node:stream';
import { parse as parseCsv, type Parser } from 'csv-parse';
import streamArray from 'stream-json/streamers/stream-array.js';
import { checkCsvHeader, csvRowToValue } from './entry.js';

export type SourceItem =
  | { readonly kind: 'value'; readonly at: string; readonly value: unknown }
  /** One row the reader could read but not make an entry of (wrong number of cells, bad JSON line). */
  | { readonly kind: 'row-error'; readonly at: string; readonly reason: string }
  /** The reader stops here: nothing after `at` was read. */
  | { readonly kind: 'batch-error'; readonly at: string; readonly reason: string };

export type BodyFormat = 'csv' | 'json' | 'ndjson';

export function formatOf(contentType: string | undefined): BodyFormat | undefined {
  const type = (contentType ?? '').split(';')[0]?.trim().toLowerCase();
  if (type === 'text/csv') return 'csv';
  if (type === 'application/json') return 'json';
  if (type === 'application/x-ndjson' || type === 'application/jsonl') return 'ndjson';
  return undefined;
}

export function readEntries(body: Readable, format: BodyFormat): AsyncGenerator<SourceItem> {
  if (format === 'csv') return readCsv(body);
  if (format === 'ndjson') return readNdjson(body);
  return readJson(body);
}

async function* readCsv(body: Readable): AsyncGenerator<SourceItem> {
  // A parse error is not let out of the parser as a stream error: Node's async
  // iterator then drops the records parsed before it but not yet read (the
  // rows before a broken quote went missing, depending on timing). Errors are
  // skipped instead, noting how many records came before the first one, and
  // reading stops there: where a quoted field ends is unknown, so no later
  // row can be trusted.
  // The count is csv-parse's own (`info.records`, the records given out so far): an `on_record`
  // hook to count them makes it build an info object per record (5 % of a batch's CPU, measured).
  let firstError: { error: CsvFault; after: number } | undefined;
  const csv: Parser = parseCsv({
    bom: true,
    trim: true,
    skip_empty_lines: true,
    relax_column_count: true,
    skip_records_with_error: true,
    on_skip: (error) => {
      firstError ??= { error: error as CsvFault, after: csv.info.records };
    },
  });
  const parser = body.pipe(csv);
  let header: string[] | undefined;
  let read = 0;
  let row = 0;
  try {
    for await (const record of parser as AsyncIterable<string[]>) {
      read += 1;
      if (firstError && read > firstError.after) break;
      // Rows are counted here (`row 1` is the first after the header): csv-parse's
      // per-record info (line numbers) costs a third of its parse time.
      if (!header) {
        header = record;
        const problem = checkCsvHeader(header);
        if (problem) {
          yield { kind: 'batch-error', at: 'header', reason: problem };
          return;
        }
        continue;
      }
      row += 1;
      const at = `row ${row}`;
      if (record.length !== header.length) {
        yield {
          kind: 'row-error',
          at,
          reason: `${record.length} cells, the header has ${header.length}`,
        };
        continue;
      }
      yield { kind: 'value', at, value: csvRowToValue(header, record) };
    }
  } catch (error) {
    firstError ??= { error: error as CsvFault, after: read };
  } finally {
    body.resume();
  }
  if (firstError) {
    const e = firstError.error;
    yield {
      kind: 'batch-error',
      at: `line ${e.lines ?? '?'} of the body (after row ${row})`,
      reason: `CSV ${e.code ?? 'error'}: ${(e.message ?? String(e)).split(' at line')[0] ?? ''}; nothing from this line on was read`,
    };
  }
}

interface CsvFault {
  readonly code?: string;
  readonly message?: string;
  readonly lines?: number;
}

async function* readNdjson(body: Readable): AsyncGenerator<SourceItem> {
  const lines = createInterface({ input: body, crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n += 1;
    if (line.trim() === '') continue;
    try {
      yield { kind: 'value', at: `line ${n}`, value: JSON.parse(line) as unknown };
    } catch (error) {
      yield { kind: 'row-error', at: `line ${n}`, reason: `not JSON: ${(error as Error).message}` };
    }
  }
}

async function* readJson(body: Readable): AsyncGenerator<SourceItem> {
  // One object: small, read whole (64 KiB at most). An array: streamed element by element.
  const iterator = body[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
  const first = await iterator.next();
  const head = first.done ? '' : first.value.toString('utf8');
  const start = head.trimStart()[0];
  if (start === '{') {
    let text = head;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      text += next.value.toString('utf8');
      if (text.length > 65_536) {
        yield {
          kind: 'batch-error',
          at: 'body',
          reason: 'one JSON object over 64 KiB: send many entries as an array',
        };
        return;
      }
    }
    try {
      yield { kind: 'value', at: 'entry 0', value: JSON.parse(text) as unknown };
    } catch (error) {
      yield { kind: 'batch-error', at: 'body', reason: `not JSON: ${(error as Error).message}` };
    }
    return;
  }
  if (start !== '[') {
    yield {
      kind: 'batch-error',
      at: 'body',
      reason: 'the body must be a JSON object or an array of objects',
    };
    return;
  }
  const rest = (async function* () {
    yield Buffer.from(head, 'utf8');
    for (let next = await iterator.next(); !next.done; next = await iterator.next())
      yield next.value;
  })();
  const elements = Readable.from(rest).pipe(streamArray.withParserAsStream());
  let index = 0;
  try {
    for await (const item of elements as AsyncIterable<{ key: number; value: unknown }>) {
      index = item.key + 1;
      yield { kind: 'value', at: `entry ${item.key}`, value: item.value };
    }
  } catch (error) {
    yield {
      kind: 'batch-error',
      at: `after entry ${index - 1}`,
      reason: `malformed JSON: ${(error as Error).message}; nothing after it was read`,
    };
  }
}
