/** Levenshtein distance (insertions, deletions, substitutions), two rows of memory. */
export function levenshtein(a: string, b: string): number {
  if (a === b) {
    return 0;
  }
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * Up to `limit` names closest to `input`: names containing it (or contained in it) first, then the nearest by edit
 * distance, within a distance that grows with the input's length (so unrelated names are not suggested).
 */
export function closest(input: string, names: readonly string[], limit = 3): string[] {
  const wanted = input.toLowerCase();
  const threshold = Math.max(2, Math.floor(wanted.length / 3));
  return names
    .map((name, index) => {
      const candidate = name.toLowerCase();
      const contains = wanted.length >= 4 && (candidate.includes(wanted) || wanted.includes(candidate));
      return { name, index, distance: levenshtein(wanted, candidate), contains };
    })
    .filter((entry) => entry.contains || entry.distance <= threshold)
    .sort((x, y) => Number(y.contains) - Number(x.contains) || x.distance - y.distance || x.index - y.index)
    .slice(0, limit)
    .map((entry) => entry.name);
}
