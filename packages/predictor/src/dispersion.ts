/** The variance factor φ a prediction needed to cover a residual: r² / (z² · variance). */
export function neededDispersion(residual: number, variance: number, z: number): number {
  const squared = residual * residual;
  if (variance > 0) return squared / (z * z * variance);
  return squared > 1e-18 ? Number.POSITIVE_INFINITY : 0;
}

/**
 * Smallest φ whose intervals m ± z·√(φ·v) cover at least `level` of the records, given each record's
 * needed factor (neededDispersion): their ⌈level·(n + 1)⌉-th smallest (split-conformal quantile).
 */
export function calibrateDispersion(needed: readonly number[], level: number): number {
  if (needed.length === 0) return 1;
  const sorted = Float64Array.from(needed).sort();
  const rank = Math.min(sorted.length, Math.ceil(level * (sorted.length + 1))) - 1;
  const factor = sorted[Math.max(0, rank)]!;
  // All records exact (e.g. deterministic routing): keep the model's own variance.
  if (factor === 0) return 1;
  if (Number.isFinite(factor)) return factor;
  // Records the model gave no variance but that moved: the widest finite factor is the best we have.
  let widest = 1;
  for (const value of sorted) if (Number.isFinite(value) && value > widest) widest = value;
  return widest;
}
