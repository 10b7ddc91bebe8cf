/**
 * The built-in user-value algorithm: a weighted sum with tier thresholds.
 *
 *   value = w.benefit·benefit − w.burden·burden
 *           − w.calls·calls − w.minutes·minutes − w.repeatContacts·repeatContacts
 *
 * The tier is the first threshold (highest first) the value reaches; below all
 * of them, the last tier's name.
 */
import type { ValueAlgorithm, ValueInput, ValueResult } from './types.js';

export interface WeightedConfig {
  readonly version: string;
  readonly weights: {
    readonly benefit: number;
    readonly burden: number;
    readonly calls: number;
    readonly minutes: number;
    readonly repeatContacts: number;
  };
  /** e.g. [{ name: 'high', minValue: 100 }, { name: 'standard', minValue: 0 }, { name: 'low', minValue: -Infinity }] */
  readonly tiers: readonly { readonly name: string; readonly minValue: number }[];
}

export const DEFAULT_WEIGHTED: WeightedConfig = {
  version: '1',
  weights: { benefit: 1, burden: 1, calls: 0, minutes: 0, repeatContacts: 0 },
  tiers: [
    { name: 'high', minValue: 100 },
    { name: 'standard', minValue: Number.NEGATIVE_INFINITY },
  ],
};

export function weightedAlgorithm(config: WeightedConfig = DEFAULT_WEIGHTED): ValueAlgorithm {
  const tiers = [...config.tiers].sort((a, b) => b.minValue - a.minValue);
  const w = config.weights;
  return {
    name: 'weighted',
    version: config.version,
    compute(input: ValueInput): ValueResult {
      const terms = {
        benefit: w.benefit * input.benefit.score,
        burden: -w.burden * input.burden.score,
        calls: -w.calls * input.history.calls,
        minutes: -w.minutes * input.history.minutes,
        repeatContacts: -w.repeatContacts * input.history.repeatContacts,
      };
      const value = Object.values(terms).reduce((sum, term) => sum + term, 0);
      const tier =
        tiers.find((t) => value >= t.minValue)?.name ?? tiers[tiers.length - 1]?.name ?? 'standard';
      return { value: Math.round(value * 100) / 100, tier, terms };
    },
  };
}
