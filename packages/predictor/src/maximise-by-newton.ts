/**
 * Maximum over α ∈ [min, max] of a smooth function given its first and second derivatives in α
 * (`derivatives(α, out)` writes f′, f″): safeguarded Newton on u = log α, keeping a bracket where
 * the derivative changes sign and bisecting whenever a step leaves it or curvature is not negative.
 */
export function maximiseByNewton(
  derivatives: (alpha: number, out: Float64Array) => void,
  min: number,
  max: number,
  tolerance = 1e-7,
): number {
  const out = new Float64Array(2);
  // g(u) = f(e^u): g′ = α f′, g″ = α f′ + α² f″.
  const slope = (u: number): { first: number; second: number } => {
    const alpha = Math.exp(u);
    derivatives(alpha, out);
    return { first: alpha * out[0]!, second: alpha * out[0]! + alpha * alpha * out[1]! };
  };
  let lo = Math.log(min);
  let hi = Math.log(max);
  if (slope(lo).first <= 0) return min;
  if (slope(hi).first >= 0) return max;
  let u = (lo + hi) / 2;
  for (let i = 0; i < 100; i++) {
    const { first, second } = slope(u);
    if (first > 0) lo = u;
    else hi = u;
    let next = second < 0 ? u - first / second : Number.NaN;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - u) < tolerance || hi - lo < tolerance) return Math.exp(next);
    u = next;
  }
  return Math.exp(u);
}
