/**
 * `POST /v1/call-entries` (scope `call-entries`): a content provider's call
 * log, one entry or many, as JSON, NDJSON or CSV. The body is read as a
 * stream and the answer streams back: one result per entry in the batch's
 * order, a summary, and the batch error if the reader had to stop.
 */
import { Router } from 'express';
import { ParleyError } from '@parley/shared/errors';
import { assertScope, principalOf } from '../../http/api-auth.js';
import { drained } from '../../http/drained.js';
import { ingest } from '../call-entries/ingest.js';
import { formatOf, readEntries } from '../call-entries/sources.js';
import { readEntriesInThread } from '../call-entries/worker-source.js';
import type { Marketplace } from '../marketplace.js';

export function callEntryRoutes(m: Marketplace): Router {
  const router = Router();
  router.post('/call-entries', async (req, res) => {
    assertScope(res, 'call-entries');
    const format = formatOf(req.headers['content-type']);
    if (!format)
      throw new ParleyError(
        'bad_request',
        'Content-Type must be text/csv, application/json or application/x-ndjson',
        {
          expose: true,
        },
      );
    const principal = principalOf(res);
    const tenant =
      principal?.tenant ??
      (typeof req.query['tenant'] === 'string' ? req.query['tenant'] : undefined);
    if (tenant === undefined || !m.tenantExists(tenant))
      throw new ParleyError(
        'bad_request',
        'tenant: give ?tenant= with an API key not bound to a tenant',
        { expose: true },
      );
    // A large body (or one of unknown length) is parsed on a thread beside the matching.
    const from = m.config.callEntriesParseThreadBytes;
    const length = Number(req.headers['content-length'] ?? Number.NaN);
    const source =
      from !== null && !(length < from)
        ? readEntriesInThread(req, format)
        : readEntries(req, format);
    const results = ingest(source, {
      matcher: m.entries,
      tenant,
      threshold: m.threshold(tenant),
      now: () => m.now(),
    });
    res.status(200).type('application/json').setHeader('cache-control', 'no-store');
    res.write('{"results":[');
    let first = true;
    let buffer = '';
    /** Writes what is buffered; false if the client went away before taking it. */
    const flush = async (): Promise<boolean> => {
      if (buffer === '') return true;
      const ok = res.write(buffer);
      buffer = '';
      return ok || drained(res);
    };
    let step = await results.next();
    while (!step.done) {
      m.metrics?.callEntries.inc({ result: step.value.status });
      buffer += (first ? '' : ',') + JSON.stringify(step.value);
      first = false;
      if (buffer.length > 65_536 && !(await flush())) {
        // Gone: the rest is not read or matched (what was stored stays; a retry
        // answers `duplicate`). return() ends the reading (its parser, its thread).
        const unread = { received: 0, matched: 0, unmatched: 0, duplicate: 0, invalid: 0 };
        await results.return({ summary: unread, error: null }); // a value nobody reads
        return;
      }
      step = await results.next();
    }
    await flush();
    res.end(
      `],"summary":${JSON.stringify(step.value.summary)},"error":${JSON.stringify(step.value.error)}}`,
    );
  });
  return router;
}
