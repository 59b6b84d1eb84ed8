import { didYouMean, getMeasurement, MeterhubError, LEGACY_API_FIELDS, legacyApiFieldMeasurement, MEASUREMENTS } from '@meterhub/sdk';

/** A source column and the vocabulary measurement its values are stored under. */
export interface MappedColumn {
  column: string;
  measurement: string;
  /** How the column was recognised, for the dry run's mapping table. */
  via: 'old API field' | 'vocabulary id' | '--column-map';
}

export interface UnmatchedColumn {
  column: string;
  /** `did you mean …?`, when a field or measurement is close. */
  hint?: string;
}

export interface ColumnMapping {
  mapped: MappedColumn[];
  unmatched: UnmatchedColumn[];
}

/** Every name a column may carry: the old API's fields, then the vocabulary's ids. */
const CANDIDATES = [...LEGACY_API_FIELDS.map((f) => f.field), ...MEASUREMENTS.keys()];

/** "voltageL1 (V)" (this product's CSV header) → "voltageL1". */
function stripUnit(column: string): string {
  return column.replace(/\s*\([^)]*\)\s*$/, '').trim();
}

/**
 * Maps source columns to measurements with the one table of the old API's
 * field names (`legacyApiFieldMeasurement`: `voltage` is `voltageL1` on a
 * single-phase meter, `voltageLnAvg` on a three-phase one) and, failing that,
 * the vocabulary's own ids (this product's exports). `driver` decides the phase
 * reading of the old fields; without one they read as single-phase. Columns in
 * `structural` (time, meter key, row id) are neither mapped nor reported.
 */
export function mapColumns(
  columns: readonly string[],
  driver: { resolve(name: string): unknown } | undefined,
  structural: readonly string[] = [],
  overrides: ReadonlyMap<string, string> = new Map(),
): ColumnMapping {
  const mapped: MappedColumn[] = [];
  const unmatched: UnmatchedColumn[] = [];
  const skip = new Set(structural.map((c) => c.toLowerCase()));
  const taken = new Set<string>();
  for (const column of columns) {
    if (skip.has(column.toLowerCase())) continue;
    const name = stripUnit(column);
    const chosen = overrides.get(column) ?? overrides.get(name);
    const legacy = chosen ? undefined : legacyApiFieldMeasurement(name, driver);
    const measurement = chosen ?? legacy ?? (getMeasurement(name) ? name : undefined);
    if (!measurement) {
      const hint = didYouMean(name, CANDIDATES);
      unmatched.push({ column, ...(hint ? { hint } : {}) });
      continue;
    }
    // Two columns for one measurement (`power` and `active_power`): the first wins, the other is reported.
    if (taken.has(measurement)) {
      unmatched.push({ column, hint: `maps to ${measurement}, already taken by an earlier column` });
      continue;
    }
    taken.add(measurement);
    mapped.push({ column, measurement, via: chosen ? '--column-map' : legacy ? 'old API field' : 'vocabulary id' });
  }
  return { mapped, unmatched };
}

/**
 * `name=measurement` pairs of `--column-map`, checked against the vocabulary:
 * an unknown measurement is an option to fix, with the closest ids.
 */
export function parseColumnMap(specs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  const problems = [];
  for (const spec of specs) {
    const eq = spec.lastIndexOf('=');
    const name = spec.slice(0, eq).trim();
    const id = spec.slice(eq + 1).trim();
    if (eq <= 0 || !id) problems.push({ path: '--column-map', message: `"${spec}" is not name=measurement` });
    else if (!getMeasurement(id)) problems.push({ path: '--column-map', message: `"${id}" is not a measurement`, ...(didYouMean(id, MEASUREMENTS.keys()) ? { hint: didYouMean(id, MEASUREMENTS.keys())! } : {}) });
    else map.set(name, id);
  }
  if (problems.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the option is not valid', { details: problems });
  return map;
}

/** The mapping as lines for the terminal: `column → measurement`, then what matched nothing. */
export function formatMapping(title: string, mapping: ColumnMapping): string[] {
  const lines = [`${title}:`];
  const width = Math.max(0, ...mapping.mapped.map((m) => m.column.length), ...mapping.unmatched.map((m) => m.column.length));
  for (const m of mapping.mapped) lines.push(`  ${m.column.padEnd(width)}  → ${m.measurement}  (${m.via})`);
  for (const u of mapping.unmatched) lines.push(`  ${u.column.padEnd(width)}  → not imported: matches no field or measurement${u.hint ? `; ${u.hint}` : ''}`);
  return lines;
}
