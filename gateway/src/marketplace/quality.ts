import type { ListingStats } from './model.js';

/** The quality score's constants (`marketplace.quality`). */
export interface QualityOptions {
  /** Weight of the prior, in calls: how many real calls it takes to move the score halfway. */
  readonly priorCalls: number;
  readonly priorAnswerRate: number;
  readonly priorQualificationRate: number;
  /** Floor of the score. */
  readonly min: number;
}

export const DEFAULT_QUALITY: QualityOptions = {
  priorCalls: 10,
  priorAnswerRate: 0.5,
  priorQualificationRate: 0.5,
  min: 0.1,
};

export interface QualityScore {
  readonly score: number;
  readonly answerRate: number;
  readonly qualificationRate: number;
}

/**
 * A listing's quality from its past calls, neutral (1) with none:
 *
 *   answerRate        = (answered  + K·A0) / (calls    + K)
 *   qualificationRate = (qualified + K·Q0) / (answered + K)
 *   quality           = max(min, answerRate · qualificationRate / (A0 · Q0))
 *
 * K (priorCalls) pulls a listing with few calls towards the priors A0, Q0, so
 * one unanswered call does not sink a new listing, and a listing whose
 * advertiser answers and keeps callers on the line ranks above one bidding the
 * same that does not. The score ranges from `min` to 1/(A0·Q0).
 */
export function qualityOf(stats: ListingStats | undefined, o: QualityOptions): QualityScore {
  const calls = stats?.calls ?? 0;
  const answered = stats?.answered ?? 0;
  const qualified = stats?.qualified ?? 0;
  const k = o.priorCalls;
  const answerRate = (answered + k * o.priorAnswerRate) / (calls + k);
  const qualificationRate = (qualified + k * o.priorQualificationRate) / (answered + k);
  const raw = (answerRate * qualificationRate) / (o.priorAnswerRate * o.priorQualificationRate);
  return { score: Math.max(o.min, raw), answerRate, qualificationRate };
}
