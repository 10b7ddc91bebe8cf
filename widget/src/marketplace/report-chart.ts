/**
 * The report's chart as SVG geometry (pure, testable): calls per day as bars
 * on the left scale, spend per day as a line on the right scale. Hand-written
 * because a chart library would be the widget's largest dependency for two
 * series.
 */
export interface DayPoint {
  readonly day: string;
  readonly calls: number;
  readonly qualified: number;
  readonly spendCents: number;
}

export interface ChartGeometry {
  readonly width: number;
  readonly height: number;
  readonly bars: readonly {
    x: number;
    y: number;
    w: number;
    h: number;
    day: string;
    calls: number;
  }[];
  /** SVG path of the spend line ("M x y L x y …"), empty without days. */
  readonly spendPath: string;
  /** The spend line's points (dots, so a single day shows too). */
  readonly spendPoints: readonly { x: number; y: number }[];
  readonly maxCalls: number;
  readonly maxSpendCents: number;
}

const PAD = { top: 10, right: 10, bottom: 20, left: 10 };

/** Sums report rows per day (a report has one row per day and subject id). */
export function byDay(rows: readonly DayPoint[]): DayPoint[] {
  const days = new Map<string, { calls: number; qualified: number; spendCents: number }>();
  for (const r of rows) {
    const d = days.get(r.day) ?? { calls: 0, qualified: 0, spendCents: 0 };
    d.calls += r.calls;
    d.qualified += r.qualified;
    d.spendCents += r.spendCents;
    days.set(r.day, d);
  }
  return [...days.entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([day, d]) => ({ day, ...d }));
}

/** Every day from `from` to `to` (YYYY-MM-DD), the days without data at zero: time reads evenly. */
export function fillDays(points: readonly DayPoint[], from: string, to: string): DayPoint[] {
  const known = new Map(points.map((p) => [p.day, p]));
  const out: DayPoint[] = [];
  const end = Date.parse(`${to}T00:00:00Z`);
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= end && out.length < 400; t += 86_400_000) {
    const day = new Date(t).toISOString().slice(0, 10);
    out.push(known.get(day) ?? { day, calls: 0, qualified: 0, spendCents: 0 });
  }
  return out;
}

export function chartGeometry(
  points: readonly DayPoint[],
  width = 600,
  height = 200,
): ChartGeometry {
  const innerW = width - PAD.left - PAD.right;
  const innerH = height - PAD.top - PAD.bottom;
  const maxCalls = Math.max(1, ...points.map((p) => p.calls));
  const maxSpendCents = Math.max(1, ...points.map((p) => p.spendCents));
  const step = points.length > 0 ? innerW / points.length : innerW;
  const bars = points.map((p, i) => {
    const h = (p.calls / maxCalls) * innerH;
    return {
      x: PAD.left + i * step + step * 0.15,
      y: PAD.top + innerH - h,
      w: step * 0.7,
      h,
      day: p.day,
      calls: p.calls,
    };
  });
  const spendPoints = points.map((p, i) => ({
    x: PAD.left + i * step + step / 2,
    y: PAD.top + innerH - (p.spendCents / maxSpendCents) * innerH,
  }));
  const spendPath = spendPoints
    .map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x.toFixed(1)} ${p.y.toFixed(1)}`)
    .join(' ');
  return { width, height, bars, spendPath, spendPoints, maxCalls, maxSpendCents };
}
