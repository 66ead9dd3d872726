// The known name a mistyped one most likely meant: a typo ('--thread', 'upscal') gets a suggestion, a name that
// is nothing like any known one gets none rather than a misleading guess.

/** Levenshtein distance: insertions, deletions and substitutions, one each. */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = row;
  }
  return prev[b.length];
}

/** The closest of `known` to `name` within a third of its length (at least 2 edits), or one that starts with
 *  it; undefined when none is close. */
export function nearest(name: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(name.length / 3)) + 1;
  for (const k of known) {
    const d = k.startsWith(name) && name.length >= 3 ? 0.5 : distance(name, k);
    if (d < bestD) [best, bestD] = [k, d];
  }
  return best;
}

/** " (did you mean x?)" when one of `known` is close to `name`, else "". */
export function didYouMean(name: string, known: readonly string[]): string {
  const guess = nearest(name, known);
  return guess === undefined ? '' : ` (did you mean ${guess}?)`;
}
