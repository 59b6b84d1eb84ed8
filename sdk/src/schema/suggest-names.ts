import { distance } from 'fastest-levenshtein';

/** Lower-case, letters and digits only, so "Active Power", "active_power" and "activePower" compare equal. */
const fold = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]/g, '');

/**
 * The candidates closest to what someone typed, best first: for "did you mean"
 * hints on config values, legacy parameter names and CLI arguments. A candidate
 * qualifies when its edit distance (case and punctuation ignored) is within a
 * third of the longer name, or when one name contains the other; nothing far off
 * is suggested, so an empty list means "no plausible match".
 *
 * @example suggestNames('sdm360', ['sdm230', 'sdm630']) // ['sdm630', 'sdm230']
 */
export function suggestNames(input: string, candidates: Iterable<string>, max = 3): string[] {
  const wanted = fold(input);
  if (!wanted) return [];
  const scored = new Map<string, number>();
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const folded = fold(candidate);
    // "Import Active Energy" and "import_active_energy" are one suggestion: the first spelling given.
    if (!folded || seen.has(folded)) continue;
    seen.add(folded);
    const d = distance(wanted, folded);
    const contains = folded.includes(wanted) || wanted.includes(folded);
    // Two edits is a swapped pair of letters ("rset"), plausible in any name of four or more.
    const tolerance = Math.max(Math.min(wanted.length, folded.length) >= 4 ? 2 : 1, Math.floor(Math.max(wanted.length, folded.length) / 3));
    if (d <= tolerance || (contains && Math.min(wanted.length, folded.length) >= 3)) {
      // A containing name ranks by how much it adds, after every close spelling.
      scored.set(candidate, contains && d > 2 ? 10 + d : d);
    }
  }
  return [...scored.entries()].sort((a, b) => a[1] - b[1] || a[0].localeCompare(b[0])).slice(0, max).map(([name]) => name);
}

/** `did you mean "a" or "b"?`, or undefined when there is nothing to suggest. */
export function didYouMean(input: string, candidates: Iterable<string>): string | undefined {
  const names = suggestNames(input, candidates);
  return names.length ? `did you mean ${names.map((n) => JSON.stringify(n)).join(' or ')}?` : undefined;
}
