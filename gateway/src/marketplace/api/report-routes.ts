/**
 * `GET /v1/reports/{listings,advertisers,publishers}[/:id]?from=&to=&format=csv`
 * (scope `read`): per day and per subject, impressions, calls, answered and
 * qualified calls, spend, cost per call, answer rate; JSON or CSV.
 */
import { Router, type Request, type Response } from 'express';
import { stringify } from 'csv-stringify/sync';
import { ParleyError } from '@parley/shared/errors';
import { assertScope, principalOf } from '../../http/api-auth.js';
import type { Marketplace } from '../marketplace.js';
import { totals, type ReportSubject } from '../reports.js';

const SUBJECTS: Record<string, ReportSubject> = {
  listings: 'listing',
  advertisers: 'advertiser',
  publishers: 'publisher',
};
const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MAX_DAYS = 366;

export function reportRoutes(m: Marketplace): Router {
  const router = Router();
  const handle = async (req: Request, res: Response) => {
    assertScope(res, 'read');
    const subject = SUBJECTS[String(req.params['subject'])];
    if (!subject)
      throw new ParleyError('not_found', 'reports are per listings, advertisers or publishers', {
        expose: true,
      });
    const today = m.index.today(m.now());
    const to = typeof req.query['to'] === 'string' ? req.query['to'] : today;
    const from =
      typeof req.query['from'] === 'string'
        ? req.query['from']
        : new Date(Date.parse(`${to}T00:00:00Z`) - 29 * 86_400_000).toISOString().slice(0, 10);
    if (
      !DAY.test(from) ||
      !DAY.test(to) ||
      Number.isNaN(Date.parse(from)) ||
      Number.isNaN(Date.parse(to))
    )
      throw new ParleyError('bad_request', 'from and to must be days, YYYY-MM-DD', {
        expose: true,
      });
    if (from > to) throw new ParleyError('bad_request', 'from is after to', { expose: true });
    if ((Date.parse(to) - Date.parse(from)) / 86_400_000 >= MAX_DAYS)
      throw new ParleyError('bad_request', `at most ${MAX_DAYS} days per report`, { expose: true });
    const id = typeof req.params['id'] === 'string' ? req.params['id'] : undefined;
    const tenant = principalOf(res)?.tenant;
    if (id !== undefined) {
      // 404 for another tenant's subject (existence is not disclosed).
      if (subject === 'listing') m.registry.listing(tenant, id);
      else if (subject === 'advertiser') m.registry.advertiser(tenant, id);
      else m.registry.publisher(tenant, id);
    }
    const rows = await m.reports.daily({ subject, tenant, id, from, to });
    if (req.query['format'] === 'csv') {
      res
        .type('text/csv')
        .setHeader(
          'content-disposition',
          `attachment; filename="parley-${subject}-report-${from}-${to}.csv"`,
        );
      res.send(
        stringify(rows, {
          header: true,
          columns: [
            'day',
            'id',
            'impressions',
            'calls',
            'answered',
            'qualified',
            'spendCents',
            'costPerCallCents',
            'answerRate',
          ],
        }),
      );
      return;
    }
    res.json({ subject, from, to, currency: m.config.currency, rows, totals: totals(rows) });
  };
  router.get('/reports/:subject', handle);
  router.get('/reports/:subject/:id', handle);
  return router;
}
