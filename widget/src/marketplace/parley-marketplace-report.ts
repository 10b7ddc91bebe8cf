import { LitElement, css, html, svg, type TemplateResult } from 'lit';
import { byDay, chartGeometry, fillDays, type DayPoint } from './report-chart.js';

interface ReportRow extends DayPoint {
  readonly id: string;
  readonly impressions: number;
  readonly answered: number;
  readonly costPerCallCents: number | null;
  readonly answerRate: number | null;
}
interface Report {
  readonly subject: string;
  readonly from: string;
  readonly to: string;
  readonly currency: string;
  readonly rows: readonly ReportRow[];
  readonly totals: readonly ReportRow[];
}

/**
 * `<parley-marketplace-report>`: calls and spend over time for listings,
 * advertisers or publishers, from the gateway's `GET /v1/reports/…` (JSON),
 * as an SVG chart (calls as bars, spend as a line) and a table per day.
 *
 * Attributes: `src` (the report URL, e.g.
 * `https://gw.example/v1/reports/advertisers/ad_…?from=2025-01-01`, or the
 * company's own proxy of it), `api-key` (sent as a Bearer token; only on a
 * page for the company's staff, never a public one).
 *
 * @csspart chart - The SVG chart.
 * @csspart table - The table of days.
 */
export class ParleyMarketplaceReport extends LitElement {
  static override properties = {
    src: {},
    apiKey: { attribute: 'api-key' },
    report: { state: true },
    failure: { state: true },
  };

  static override styles = css`
    :host {
      display: block;
      font-family: var(--parley-font, system-ui, sans-serif);
      color: var(--parley-text, #1f1f1f);
    }
    svg {
      width: 100%;
      height: auto;
      max-width: 40rem;
    }
    .bar {
      fill: var(--parley-accent, #0b57d0);
      opacity: 0.6;
    }
    .dot {
      fill: var(--parley-danger, #b3261e);
    }
    text {
      font-size: 10px;
      fill: var(--parley-muted-text, #5f6368);
    }
    .legend {
      color: var(--parley-muted-text, #5f6368);
      font-size: 0.9em;
    }
    .spend {
      fill: none;
      stroke: var(--parley-danger, #b3261e);
      stroke-width: 2;
    }
    table {
      border-collapse: collapse;
      font-variant-numeric: tabular-nums;
    }
    th,
    td {
      padding: 0.25rem 0.75rem;
      text-align: right;
      border-bottom: 1px solid var(--parley-border, #c4c7c5);
    }
    th:first-child,
    td:first-child {
      text-align: left;
    }
  `;

  declare src: string;
  declare apiKey: string | undefined;
  declare protected report: Report | undefined;
  declare protected failure: string | undefined;

  constructor() {
    super();
    this.src = '';
  }

  override connectedCallback(): void {
    super.connectedCallback();
    void this.refresh();
  }

  async refresh(): Promise<void> {
    try {
      const response = await fetch(this.src, {
        headers: this.apiKey ? { authorization: `Bearer ${this.apiKey}` } : {},
        cache: 'no-store',
      });
      const body = (await response.json()) as Report & { error?: { message: string } };
      if (!response.ok) throw new Error(body.error?.message ?? `HTTP ${response.status}`);
      this.report = body;
      this.failure = undefined;
    } catch (error) {
      this.failure = String(error);
    }
  }

  protected override render(): TemplateResult {
    if (this.failure) return html`<p role="status">The report could not be loaded.</p>`;
    const r = this.report;
    if (!r) return html`<p role="status">Loading…</p>`;
    const days = byDay(r.rows);
    const g = chartGeometry(fillDays(days, r.from, r.to));
    const money = (cents: number) =>
      new Intl.NumberFormat(undefined, { style: 'currency', currency: r.currency }).format(
        cents / 100,
      );
    return html`
      <svg
        part="chart"
        viewBox="0 0 ${g.width} ${g.height}"
        role="img"
        aria-label="Calls (bars, up to ${g.maxCalls}) and spend (line, up to ${money(g.maxSpendCents)}) per day from ${r.from} to ${r.to}"
      >
        ${g.bars.map(
          (b) =>
            svg`<rect class="bar" x=${b.x} y=${b.y} width=${b.w} height=${b.h}><title>${b.day}: ${b.calls} calls</title></rect>`,
        )}
        <path class="spend" d=${g.spendPath}></path>
        ${g.spendPoints.map((p) => svg`<circle class="dot" cx=${p.x} cy=${p.y} r="2.5"></circle>`)}
        <text x="10" y=${g.height - 5}>${r.from}</text>
        <text x=${g.width - 10} y=${g.height - 5} text-anchor="end">${r.to}</text>
      </svg>
      <p part="legend" class="legend">
        Bars: calls per day (highest ${g.maxCalls}). Line: spend per day (highest
        ${money(g.maxSpendCents)}).
      </p>
      <table part="table">
        <thead>
          <tr>
            <th>Day</th>
            <th>Calls</th>
            <th>Qualified</th>
            <th>Spend</th>
          </tr>
        </thead>
        <tbody>
          ${days.map(
            (d) =>
              html`<tr data-day=${d.day}>
                <td>${d.day}</td>
                <td>${d.calls}</td>
                <td>${d.qualified}</td>
                <td>${money(d.spendCents)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    `;
  }
}
