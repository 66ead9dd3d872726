/** Each of n candidates' fastest run over `rounds` rounds that run every candidate once in turn: on a shared
 *  machine noise only ever adds time, so the minimum ranks best, and interleaving lets load hit all alike. */
export function fastestRuns(n: number, rounds: number, run: (i: number) => void): number[] {
  const best = Array.from({ length: n }, () => Infinity);
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      run(i);
      best[i] = Math.min(best[i], performance.now() - t0);
    }
  return best;
}
