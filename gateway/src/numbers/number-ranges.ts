/**
 * Blocks of E.164 numbers (`{ from: '+14155550100', to: '+14155550199' }`,
 * both ends included): a tenant's caller numbers, a trunk's DIDs. Matching is
 * by value, never by expanding the block, so a block of a million numbers
 * costs two BigInts.
 */

export const E164 = /^\+[1-9]\d{1,14}$/;

export interface NumberRange {
  readonly from: string;
  readonly to: string;
}

interface ParsedRange {
  readonly length: number;
  readonly from: bigint;
  readonly to: bigint;
}

/** Why a block is not one (undefined when it is): not E.164, ends of different lengths, wrong order. */
export function rangeProblem(range: NumberRange): string | undefined {
  if (!E164.test(range.from) || !E164.test(range.to))
    return `${range.from}..${range.to}: not E.164`;
  if (range.from.length !== range.to.length)
    return `${range.from}..${range.to}: ends differ in length`;
  if (BigInt(range.to.slice(1)) < BigInt(range.from.slice(1)))
    return `${range.from}..${range.to}: ends in the wrong order`;
  return undefined;
}

/** A set of blocks to test numbers against. Throws a plain Error on a bad block. */
export class NumberRanges {
  readonly #ranges: readonly ParsedRange[];

  constructor(ranges: readonly NumberRange[]) {
    this.#ranges = ranges.map((range) => {
      const problem = rangeProblem(range);
      if (problem) throw new Error(`number range ${problem}`);
      return {
        length: range.from.length,
        from: BigInt(range.from.slice(1)),
        to: BigInt(range.to.slice(1)),
      };
    });
  }

  get empty(): boolean {
    return this.#ranges.length === 0;
  }

  /** Index of the first block holding `number` (E.164), or -1. */
  indexOf(number: string): number {
    if (!E164.test(number)) return -1;
    const value = BigInt(number.slice(1));
    return this.#ranges.findIndex(
      (r) => r.length === number.length && value >= r.from && value <= r.to,
    );
  }

  has(number: string): boolean {
    return this.indexOf(number) !== -1;
  }

  /** True when some number is in both sets (a configuration conflict). */
  overlaps(other: NumberRanges): boolean {
    return this.#ranges.some((a) =>
      other.#ranges.some((b) => a.length === b.length && a.from <= b.to && b.from <= a.to),
    );
  }
}
