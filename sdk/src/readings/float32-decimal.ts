/**
 * Numbers as a meter gave them. SDM meters send float32; widened to a double,
 * 230.3873 prints as 230.38731384277344. These helpers give back the short
 * decimal the meter meant, and round sums of counters to what the counters can
 * resolve, so answers carry no noise digits.
 */

/**
 * The shortest decimal that reads back as the same float32, as a number
 * (`230.38731384277344` → `230.3873`). A value float32 cannot hold exactly
 * (stored as a double) is returned unchanged. For values the host sends out.
 */
export function float32Decimal(v: number): number {
  if (!Number.isFinite(v) || Math.fround(v) !== v || v === 0 || (Number.isInteger(v) && Math.abs(v) <= 2 ** 24)) return v;
  // At most one 6-digit decimal lies within a float32's rounding interval, so
  // when 6 significant digits round-trip, that decimal (trailing zeros
  // dropped) is the shortest; otherwise the first of 7, 8 or 9 digits that
  // does (9 always does). Arithmetic, not toPrecision: history answers send
  // hundreds of thousands of values, and strings cost 20 times more.
  const exponent = Math.floor(Math.log10(Math.abs(v)));
  for (let digits = 6; digits <= 9; digits++) {
    const k = digits - 1 - exponent;
    if (k < -22 || k > 22) break;
    const candidate = k >= 0 ? Math.round(v * POW10[k]!) / POW10[k]! : Math.round(v / POW10[-k]!) * POW10[-k]!;
    if (Math.fround(candidate) === v) return candidate;
  }
  for (let digits = 6; digits < 9; digits++) {
    const candidate = Number(v.toPrecision(digits));
    if (Math.fround(candidate) === v) return candidate;
  }
  return Number(v.toPrecision(9));
}

/** Exact powers of ten (10^22 is the largest a double holds exactly). */
const POW10 = Array.from({ length: 23 }, (_, i) => Number(`1e${i}`));

/**
 * A computed value (a mean of float32 readings) at float32 precision, the
 * precision its inputs had: `230.387312345` → `230.3873`.
 */
export function asFloat32Decimal(v: number): number {
  return Number.isFinite(v) ? float32Decimal(Math.fround(v)) : v;
}

/**
 * The step a float32 counter of this magnitude can resolve, as a power of ten
 * (a counter at 12 345.67 kWh resolves 0.001 kWh: its float32 spacing there is
 * 0.00098). Sums of its increases are rounded to it.
 */
export function float32Resolution(magnitude: number): number {
  const m = Math.abs(magnitude);
  if (!Number.isFinite(m) || m === 0) return 1e-6;
  const spacing = 2 ** (Math.floor(Math.log2(m)) - 23);
  return 10 ** Math.ceil(Math.log10(spacing));
}

/**
 * The step sums of a counter's increases are rounded to: what a float32
 * counter resolves at its magnitude (`float32Resolution`) when every value
 * was a float32, else what a double resolves there with room for the error a
 * thousand additions collect (a counter stored as a double is not noise-free
 * at its last bits either).
 */
export function counterResolution(magnitude: number, float32: boolean): number {
  if (float32) return float32Resolution(magnitude);
  const m = Math.abs(magnitude);
  if (!Number.isFinite(m) || m === 0) return 1e-12;
  return 10 ** Math.ceil(Math.log10(2 ** (Math.floor(Math.log2(m)) - 52) * 1024));
}

/** `value` rounded to a multiple of `step` (a power of ten), without binary noise: 12.910000000000764 → 12.91. */
export function roundToStep(value: number, step: number): number {
  if (!Number.isFinite(value) || step <= 0) return value;
  const decimals = Math.max(0, Math.min(15, -Math.floor(Math.log10(step) + 1e-9)));
  return Number((Math.round(value / step) * step).toFixed(decimals));
}
