/**
 * "Did you mean" suggestions: the closest candidates to a mistyped key, option or flag.
 *
 * @module
 */

/** Damerau-Levenshtein distance (optimal string alignment) between two strings. */
export function editDistance(a: string, b: string): number {
  const n = a.length, m = b.length;
  if (n === 0) return m;
  if (m === 0) return n;
  let prev2: number[] = [];
  let prev = Array.from({ length: m + 1 }, (_, j) => j);
  for (let i = 1; i <= n; i++) {
    const cur = [i];
    for (let j = 1; j <= m; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, prev2[j - 2] + 1);
      }
      cur.push(d);
    }
    prev2 = prev;
    prev = cur;
  }
  return prev[m];
}

/**
 * The candidates closest to `word` (case-insensitive), best first, at most `limit`; only those
 * within a distance that still looks like a typo (about a third of the word's length, one edit
 * for words of up to three letters), or that contain the word or are contained in it (`gpus`
 * for `gpus_per_node`), which rank just behind the typos at the largest distance.
 *
 * @example closestMatches("partiton", ["partition", "account"]) // ["partition"]
 */
export function closestMatches(word: string, candidates: Iterable<string>, limit = 3): string[] {
  const w = word.toLowerCase();
  const max = Math.max(1, Math.ceil(w.length / 3));
  const scored: [number, string][] = [];
  for (const c of new Set(candidates)) {
    const lc = c.toLowerCase();
    let d = editDistance(w, lc);
    if (d > max && (lc.includes(w) || w.includes(lc)) && Math.min(w.length, lc.length) >= 3) {
      d = max + 0.5;
    }
    if (d <= max + 0.5) scored.push([d, c]);
  }
  scored.sort((x, y) => x[0] - y[0] || x[1].localeCompare(y[1]));
  return scored.slice(0, limit).map(([, c]) => c);
}

/** `did you mean "x"?` / `did you mean one of "x", "y"?`, or "" when nothing is close. */
export function didYouMean(
  word: string,
  candidates: Iterable<string>,
  render = (s: string) => `"${s}"`,
): string {
  const best = closestMatches(word, candidates);
  if (best.length === 0) return "";
  if (best.length === 1) return `did you mean ${render(best[0])}?`;
  return `did you mean one of ${best.map(render).join(", ")}?`;
}
