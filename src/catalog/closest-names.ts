/**
 * The names closest to one a person or a model typed: misspelled (`chekout`, `legder`), cut
 * short (`api` for `api-gateway`) or half-remembered (`payments` for `payment-service`). Closest
 * first; names too far from the query are left out, so that a suggestion is worth reading.
 */
export function closestNames(query: string, candidates: Iterable<string>, limit: number): string[] {
  const q = query.trim().toLowerCase();
  if (q === '' || limit <= 0) return [];
  const tolerance = Math.max(2, Math.floor(q.length / 3));
  const scored: { name: string; score: number; distance: number }[] = [];
  const seen = new Set<string>();
  for (const name of candidates) {
    const c = name.toLowerCase();
    if (seen.has(c)) continue;
    seen.add(c);
    const distance = editDistance(q, c, tolerance + 1);
    let score = distance;
    // A prefix or a shared word is a stronger hint than the raw distance says.
    if (q.length >= 2 && c.startsWith(q)) score = Math.min(score, 1 + (c.length - q.length) / 100);
    else if (q.length >= 3 && (c.includes(q) || sharesWord(q, c))) score = Math.min(score, 2);
    if (score <= tolerance) scored.push({ name, score, distance });
  }
  scored.sort((a, b) => a.score - b.score || a.distance - b.distance || a.name.localeCompare(b.name));
  return scored.slice(0, limit).map((s) => s.name);
}

const WORD = /[-_./:]+/;

/** Whether a word of one name is, give or take a letter, a word of the other (`payments`, `payment-service`). */
function sharesWord(a: string, b: string): boolean {
  const bw = b.split(WORD).filter((w) => w.length >= 3);
  return a
    .split(WORD)
    .filter((w) => w.length >= 3)
    .some((x) => bw.some((y) => editDistance(x, y, 2) <= 1));
}

/**
 * Optimal string alignment distance (Levenshtein plus adjacent transpositions), stopping early
 * once every path exceeds `bound`: the answer is then some number above it.
 */
export function editDistance(a: string, b: string, bound = Number.POSITIVE_INFINITY): number {
  if (Math.abs(a.length - b.length) > bound) return bound + 1;
  let prev2: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        v = Math.min(v, prev2[j - 2]! + 1);
      row.push(v);
      best = Math.min(best, v);
    }
    if (best > bound) return bound + 1;
    prev2 = prev;
    prev = row;
  }
  return prev[b.length]!;
}
