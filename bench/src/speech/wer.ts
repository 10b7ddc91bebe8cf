/**
 * Word error rate: (substitutions + deletions + insertions) / reference
 * words, from a word-level Levenshtein alignment; and the alignment itself,
 * to say which hypothesis word stands for which reference word.
 */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/[^a-z' ]+/g, ' ')
    .split(/\s+/)
    .filter(Boolean);
}

export interface Alignment {
  readonly errors: number;
  /** For each reference word, the index of the hypothesis word equal to it (undefined: not matched). */
  readonly matches: readonly (number | undefined)[];
}

export function align(reference: readonly string[], hypothesis: readonly string[]): Alignment {
  const n = reference.length;
  const m = hypothesis.length;
  const d: number[][] = Array.from({ length: n + 1 }, (_, i) =>
    Array.from({ length: m + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= n; i++) {
    for (let j = 1; j <= m; j++) {
      const same = reference[i - 1] === hypothesis[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + same);
    }
  }
  const matches: (number | undefined)[] = new Array(n).fill(undefined);
  let i = n;
  let j = m;
  while (i > 0 && j > 0) {
    const same = reference[i - 1] === hypothesis[j - 1];
    if (at(i, j) === at(i - 1, j - 1) + (same ? 0 : 1)) {
      if (same) matches[i - 1] = j - 1;
      i -= 1;
      j -= 1;
    } else if (at(i, j) === at(i - 1, j) + 1) {
      i -= 1;
    } else {
      j -= 1;
    }
  }
  return { errors: at(n, m), matches };
}

export interface WerTotal {
  readonly referenceWords: number;
  readonly errors: number;
  readonly sentencesExact: number;
  readonly sentences: number;
}

export function wer(total: WerTotal): number {
  return total.referenceWords === 0 ? 0 : total.errors / total.referenceWords;
}
