// Comparing outputs whose order is not defined: as multisets of lines, with a short report.

export interface MultisetDiff {
  /** Expected lines the output lacks (first few), and how many in all. */
  missing: string[];
  missingCount: number;
  /** Output lines the reference does not have (first few), and how many in all. */
  extra: string[];
  extraCount: number;
}

export function multisetDiff(actual: readonly string[], expected: readonly string[], show = 5): MultisetDiff {
  const counts = new Map<string, number>();
  for (const l of expected) counts.set(l, (counts.get(l) ?? 0) + 1);
  const extra: string[] = [];
  for (const l of actual) {
    const n = counts.get(l) ?? 0;
    if (n > 0) counts.set(l, n - 1);
    else extra.push(l);
  }
  const missing: string[] = [];
  for (const [l, n] of counts) for (let i = 0; i < n; i++) missing.push(l);
  return {
    missing: missing.slice(0, show),
    missingCount: missing.length,
    extra: extra.slice(0, show),
    extraCount: extra.length,
  };
}

export const NO_DIFF: MultisetDiff = { missing: [], missingCount: 0, extra: [], extraCount: 0 };
