/** Numbers, dates and units in the browser's locale; labels from the SDK's vocabulary. */
import vocabulary from 'virtual:vocabulary';

export interface Measurement { id: string; label: string; unit: string; family: 'power' | 'energy'; quantity: string; phase: string | null; tariff: string | null }
export const MEASUREMENTS: ReadonlyMap<string, Measurement> = new Map((vocabulary as Measurement[]).map((m) => [m.id, m]));

export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

const numberFormats = new Map<number, Intl.NumberFormat>();
export function num(v: number | undefined | null, digits = 1): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '–';
  let f = numberFormats.get(digits);
  if (!f) numberFormats.set(digits, (f = new Intl.NumberFormat(undefined, { minimumFractionDigits: digits, maximumFractionDigits: digits })));
  return f.format(v);
}

/** A value with its unit, scaled to k/M for large W/VA/var. */
export function withUnit(v: number | undefined, unit: string, digits = 1): string {
  if (v === undefined) return '–';
  if ((unit === 'W' || unit === 'VA' || unit === 'var') && Math.abs(v) >= 10_000) return `${num(v / 1000, 2)} k${unit}`;
  return unit ? `${num(v, digits)} ${unit}` : num(v, 3);
}

export function measurementValue(id: string, v: number | undefined): string {
  const m = MEASUREMENTS.get(id);
  const digits = m?.unit === 'kWh' || m?.unit === 'kvarh' || m?.unit === 'kVAh' ? 2 : m?.unit === '' ? 3 : 1;
  return withUnit(v, m?.unit ?? '', digits);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
const dateOnly = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium' });
export const formatDateTime = (t: number | Date) => dateTime.format(t);
export const formatDate = (t: number | Date) => dateOnly.format(t);

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });
export function ago(t: number | null, now = Date.now()): string {
  if (t === null) return 'never';
  const s = Math.round((t - now) / 1000);
  if (Math.abs(s) < 60) return relative.format(s, 'second');
  if (Math.abs(s) < 3600) return relative.format(Math.round(s / 60), 'minute');
  if (Math.abs(s) < 86400) return relative.format(Math.round(s / 3600), 'hour');
  return relative.format(Math.round(s / 86400), 'day');
}

/** `1 min`, `5 s`, `1 h`: the width of a chart's buckets. */
export function duration(ms: number): string {
  const units: Array<[number, Intl.NumberFormatOptions['unit']]> = [[86400_000, 'day'], [3600_000, 'hour'], [60_000, 'minute'], [1000, 'second']];
  for (const [size, unit] of units) {
    if (ms >= size) return new Intl.NumberFormat(undefined, { style: 'unit', unit, unitDisplay: 'short', maximumFractionDigits: 1 }).format(ms / size);
  }
  return `${Math.round(ms)} ms`;
}

const ORDER = new Map([...MEASUREMENTS.keys()].map((id, i) => [id, i]));
/** The vocabulary's own order: voltage, current, power … energy. */
const rank = (id: string) => ORDER.get(id) ?? Infinity;

/** Phase groups for a meter page: system values first, then L1, L2, L3, line to line, neutral. */
export function groupByPhase(values: Record<string, number>): Array<{ phase: string; ids: string[] }> {
  const order = ['', 'L1', 'L2', 'L3', 'L1-L2', 'L2-L3', 'L3-L1', 'N'];
  const groups = new Map<string, string[]>();
  for (const id of Object.keys(values)) {
    const phase = MEASUREMENTS.get(id)?.phase ?? '';
    groups.set(phase, [...(groups.get(phase) ?? []), id]);
  }
  return order.filter((p) => groups.has(p)).map((phase) => ({ phase, ids: groups.get(phase)!.sort((a, b) => rank(a) - rank(b)) }));
}

export function label(id: string): string {
  return MEASUREMENTS.get(id)?.label ?? id;
}
