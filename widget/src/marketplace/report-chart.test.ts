import { describe, expect, it } from 'vitest';
import { byDay, chartGeometry, fillDays } from './report-chart.js';

describe('report chart', () => {
  it('sums rows per day in order', () => {
    expect(
      byDay([
        { day: '2025-01-02', calls: 1, qualified: 1, spendCents: 500 },
        { day: '2025-01-01', calls: 2, qualified: 1, spendCents: 300 },
        { day: '2025-01-02', calls: 3, qualified: 2, spendCents: 700 },
      ]),
    ).toEqual([
      { day: '2025-01-01', calls: 2, qualified: 1, spendCents: 300 },
      { day: '2025-01-02', calls: 4, qualified: 3, spendCents: 1200 },
    ]);
  });

  it('scales the calls to bars and the spend to a line, the largest at the top', () => {
    const g = chartGeometry(
      [
        { day: 'a', calls: 2, qualified: 0, spendCents: 0 },
        { day: 'b', calls: 4, qualified: 0, spendCents: 1000 },
      ],
      220,
      130,
    );
    // Inner height 100: calls 4 is the full height, 2 half of it.
    expect(g.bars.map((b) => [b.h, b.y])).toEqual([
      [50, 60],
      [100, 10],
    ]);
    expect(g.spendPath).toBe('M60.0 110.0 L160.0 10.0');
  });

  it('fills the days without data, so time reads evenly', () => {
    expect(
      fillDays(
        [{ day: '2025-01-02', calls: 1, qualified: 1, spendCents: 5 }],
        '2025-01-01',
        '2025-01-03',
      ),
    ).toEqual([
      { day: '2025-01-01', calls: 0, qualified: 0, spendCents: 0 },
      { day: '2025-01-02', calls: 1, qualified: 1, spendCents: 5 },
      { day: '2025-01-03', calls: 0, qualified: 0, spendCents: 0 },
    ]);
  });

  it('draws nothing but an empty frame without days', () => {
    expect(chartGeometry([])).toMatchObject({ bars: [], spendPath: '' });
  });
});
