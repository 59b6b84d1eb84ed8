/** What happened to one meter's rows. */
export interface MeterCounts {
  read: number;
  stored: number;
  values: number;
  skipped: Record<string, number>;
  /** Cells that were not numbers: left out of their reading, which is stored with the rest. */
  badValues?: number;
  /** Rows of a long file merged into the reading of the same meter and time (read, but not a reading of their own). */
  merged?: number;
}

/** Why a row was not stored; the words end up in the final table. */
export const SKIP = {
  noValues: 'no values (every mapped column NULL or empty)',
  duplicate: 'duplicate of an earlier row (same meter and time)',
  badTime: 'time missing or not a time',
  badMeter: 'the meter key is not a meter id (letters, digits, "_.-"): give it one with --meter-map',
} as const;

/**
 * Per-meter counts of an import: rows read, readings stored, values stored and
 * rows skipped by reason. Plain data, so a checkpoint carries it across runs
 * and a resumed import ends with the counts of the whole source.
 */
export class ImportCounts {
  readonly byMeter: Record<string, MeterCounts>;

  constructor(initial: Record<string, MeterCounts> = {}) {
    this.byMeter = structuredClone(initial);
  }

  of(meter: string): MeterCounts {
    return (this.byMeter[meter] ??= { read: 0, stored: 0, values: 0, skipped: {} });
  }

  skip(meter: string, reason: string, n = 1): void {
    const c = this.of(meter);
    c.skipped[reason] = (c.skipped[reason] ?? 0) + n;
  }

  get totals(): MeterCounts {
    const t: MeterCounts = { read: 0, stored: 0, values: 0, skipped: {} };
    for (const c of Object.values(this.byMeter)) {
      t.read += c.read;
      t.stored += c.stored;
      t.values += c.values;
      for (const [r, n] of Object.entries(c.skipped)) t.skipped[r] = (t.skipped[r] ?? 0) + n;
    }
    return t;
  }

  /** The closing table: one line per meter, then each skip reason with its count. */
  format(storedWord = 'stored'): string[] {
    const meters = Object.keys(this.byMeter).sort();
    const w = Math.max(5, ...meters.map((m) => m.length));
    const n = (v: number) => v.toLocaleString('en').padStart(12);
    const lines = [`${'meter'.padEnd(w)}  ${'read'.padStart(12)}  ${storedWord.padStart(12)}  ${'values'.padStart(12)}  ${'skipped'.padStart(12)}`];
    const row = (name: string, c: MeterCounts) => `${name.padEnd(w)}  ${n(c.read)}  ${n(c.stored)}  ${n(c.values)}  ${n(Object.values(c.skipped).reduce((a, b) => a + b, 0))}`;
    for (const m of meters) lines.push(row(m, this.byMeter[m]!));
    if (meters.length > 1) lines.push(row('total', this.totals));
    for (const m of meters) {
      for (const [reason, count] of Object.entries(this.byMeter[m]!.skipped)) lines.push(`  ${m}: skipped ${count.toLocaleString('en')}: ${reason}`);
      const bad = this.byMeter[m]!.badValues;
      if (bad) lines.push(`  ${m}: ${bad.toLocaleString('en')} value(s) not a number, left out`);
      const merged = this.byMeter[m]!.merged;
      if (merged) lines.push(`  ${m}: ${merged.toLocaleString('en')} row(s) merged into the reading of the same time`);
    }
    return lines;
  }
}
