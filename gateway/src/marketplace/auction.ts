/**
 * The auction of one placement request: rank by bid × quality, price each slot
 * by generalised second price. Pure: the eligible candidates come in, the
 * decision (with what explains it) comes out.
 */

export interface Candidate {
  readonly listingId: string;
  /** Bid per qualified call, minor units. */
  readonly bid: number;
  readonly quality: number;
  /** Tie-break: the older listing first (then the id), so equal scores rank stably. */
  readonly createdAt: number;
}

export interface SlotResult {
  readonly slot: number;
  readonly listingId: string;
  readonly bid: number;
  readonly quality: number;
  /** bid × quality. */
  readonly score: number;
  /** What the listing pays per qualified call from this slot. */
  readonly price: number;
  /** The listing ranked next, whose score set the price, or `reserve`. */
  readonly pricedBy: string;
}

export interface AuctionDecision {
  readonly slots: readonly SlotResult[];
  readonly reserve: number;
  /** Candidates ranked (eligible, bid at least the reserve). */
  readonly ranked: number;
}

/** Best first: higher score, then higher bid, then older, then id. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  return (
    b.bid * b.quality - a.bid * a.quality ||
    b.bid - a.bid ||
    a.createdAt - b.createdAt ||
    (a.listingId < b.listingId ? -1 : a.listingId > b.listingId ? 1 : 0)
  );
}

/**
 * Generalised second price: the listing in slot i pays the least bid that
 * keeps its score at or above the next listing's, i.e.
 *
 *   price_i = min(bid_i, max(reserve, ceil(bid_{i+1} · q_{i+1} / q_i)))
 *
 * where i+1 is the next ranked listing even when it gets no slot; the last
 * ranked listing pays the reserve. Rounded up to the minor unit (so the price
 * really keeps the position), never above the listing's own bid.
 */
export function gspPrice(
  winner: Candidate,
  next: Candidate | undefined,
  reserve: number,
): { price: number; pricedBy: string } {
  if (!next) return { price: Math.max(reserve, 0), pricedBy: 'reserve' };
  // Minus a hair: 2.9999999999 · q / q must not round up to the next cent.
  const keep = Math.ceil((next.bid * next.quality) / winner.quality - 1e-9);
  const price = Math.min(winner.bid, Math.max(reserve, keep));
  return { price, pricedBy: keep >= reserve ? next.listingId : 'reserve' };
}

/**
 * The top `slots` of the candidates with their GSP prices. Selection keeps
 * only the best slots+1 (the extra one prices the last slot), O(n · slots),
 * instead of sorting every candidate.
 */
export function runAuction(
  candidates: Iterable<Candidate>,
  slots: number,
  reserve: number,
): AuctionDecision {
  const keep = slots + 1;
  const best: Candidate[] = [];
  let ranked = 0;
  for (const c of candidates) {
    if (c.bid < reserve || !(c.quality > 0)) continue;
    ranked += 1;
    if (best.length === keep) {
      const last = best[keep - 1];
      if (last && compareCandidates(c, last) >= 0) continue;
      best.pop();
    }
    // Insertion into the short sorted list.
    let i = best.length;
    while (i > 0) {
      const before = best[i - 1];
      if (!before || compareCandidates(c, before) >= 0) break;
      i -= 1;
    }
    best.splice(i, 0, c);
  }
  const result: SlotResult[] = [];
  for (let i = 0; i < Math.min(slots, best.length); i += 1) {
    const winner = best[i];
    if (!winner) break;
    const { price, pricedBy } = gspPrice(winner, best[i + 1], reserve);
    result.push({
      slot: i + 1,
      listingId: winner.listingId,
      bid: winner.bid,
      quality: winner.quality,
      score: winner.bid * winner.quality,
      price,
      pricedBy,
    });
  }
  return { slots: result, reserve, ranked };
}
