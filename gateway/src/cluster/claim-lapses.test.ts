import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ClaimLapses } from './claim-lapses.js';

describe('ClaimLapses', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('announces a queue once, when the earliest lapse it was told of is past', () => {
    const told: string[] = [];
    const lapses = new ClaimLapses({ announce: (q) => told.push(q), now: () => Date.now() });
    lapses.heldFor('sales', 3000);
    lapses.heldFor('sales', 5000); // later: the first notice's pass learns it again if still held
    lapses.heldFor('sales', 1000); // earlier: replaces
    lapses.heldFor('support', 2000);
    vi.advanceTimersByTime(1000);
    expect(told).toEqual([]);
    vi.advanceTimersByTime(5);
    expect(told).toEqual(['sales']);
    vi.advanceTimersByTime(1000);
    expect(told).toEqual(['sales', 'support']);
    vi.advanceTimersByTime(10_000);
    expect(told).toEqual(['sales', 'support']);
    // After a notice, the next refusal schedules again.
    lapses.heldFor('sales', 100);
    vi.advanceTimersByTime(105);
    expect(told).toEqual(['sales', 'support', 'sales']);
  });

  it('says nothing once closed', () => {
    const told: string[] = [];
    const lapses = new ClaimLapses({ announce: (q) => told.push(q) });
    lapses.heldFor('sales', 10);
    lapses.close();
    lapses.heldFor('sales', 10);
    vi.advanceTimersByTime(1000);
    expect(told).toEqual([]);
  });
});
