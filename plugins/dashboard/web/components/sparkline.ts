import { html } from '../html.js';

/** The last hour of power as an SVG line: a few hundred points need no chart library. */
export function Sparkline({ points, label }: { points: Array<[number, number]>; label: string }) {
  const w = 240;
  const hgt = 40;
  if (points.length < 2) return html`<svg class="spark" viewBox="0 0 ${w} ${hgt}" role="img" aria-label=${`${label}: not enough data yet`}></svg>`;
  // The last hour, or less while the meter has less: a new meter's line spans the card too.
  const t1 = Math.max(Date.now(), points[points.length - 1]![0]);
  const t0 = Math.max(t1 - 3600_000, points[0]![0]);
  let lo = Infinity;
  let hi = -Infinity;
  for (const [, v] of points) {
    lo = Math.min(lo, v);
    hi = Math.max(hi, v);
  }
  if (hi === lo) { hi += 1; lo -= 1; }
  const d = points.map(([t, v]) => `${(((t - t0) / (t1 - t0)) * w).toFixed(1)},${(hgt - 2 - ((v - lo) / (hi - lo)) * (hgt - 4)).toFixed(1)}`).join(' ');
  return html`<svg class="spark" viewBox="0 0 ${w} ${hgt}" preserveAspectRatio="none" role="img" aria-label=${label} data-points=${points.length}>
    <polyline points=${d} fill="none" stroke="currentColor" stroke-width="1.5" vector-effect="non-scaling-stroke" />
  </svg>`;
}
