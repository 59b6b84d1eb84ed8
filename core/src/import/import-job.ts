import { MeterhubError, type Reading } from '@meterhub/sdk';
import { METER_SCHEMA } from '../config/host-schema.js';
import type { CheckpointFile } from './import-checkpoint.js';
import { ImportCounts, SKIP } from './import-counts.js';
import type { ImportProgress } from './import-progress.js';
import type { ImportedMeter, ReadingSink } from './reading-sink.js';

/** What a meter id may be (the config schema's pattern): anything else is named with --meter-map. */
const METER_ID = new RegExp(METER_SCHEMA.properties.id.pattern);

/** One source row: the meter as the source names it, the time, and the mapped values. */
export interface ImportRow {
  meter: string;
  /** Epoch ms; undefined when the row's time is missing or unreadable. */
  ts: number | undefined;
  values: Record<string, number>;
  /** Values dropped because the cell was not a number (the rest of the row is kept). */
  badValues?: number;
  /** Part of a reading (a long file's row): rows of one meter and time are merged, not duplicates. */
  partial?: boolean;
}

/**
 * Rows read together. A source never splits rows of one time between batches,
 * so duplicates of a (meter, time) always meet in one batch, and `position`
 * (where a re-run continues) is a clean cut.
 */
export interface ImportBatch {
  rows: ImportRow[];
  position: Record<string, unknown>;
  /** Shown in progress lines: which table or file this batch came from. */
  label: string;
}

/** What the importer needs of a source (a database, a CSV file). */
export interface ImportSource {
  /** The source's identity, for its checkpoint (no secrets). */
  readonly id: string;
  /** The column mapping and other facts for the terminal. */
  describe(): string[];
  /** Rows still to read from `position` on, when the source can tell cheaply. */
  remaining(position: Record<string, unknown>): Promise<number | undefined>;
  /** Name and driver of a meter, when the source knows them. */
  meter(key: string): ImportedMeter;
  batches(position: Record<string, unknown>): AsyncIterable<ImportBatch>;
  /** What was found while reading and left out (a long file's unknown names), one line each. */
  notImported?(): string[];
  close(): Promise<void>;
}

export interface ImportJobOptions {
  /** Source meter key → meterhub meter id (`--meter-map old=new`). */
  meterMap: ReadonlyMap<string, string>;
  checkpoint?: CheckpointFile;
  progress?: ImportProgress;
  /** Ignore the checkpoint and read the whole source again. */
  restart?: boolean;
}

export interface ImportResult {
  counts: ImportCounts;
  /** Meters the import created (or would create, in a dry run). */
  created: string[];
  /** True when the checkpoint said the source was already imported: nothing was read. */
  alreadyDone: boolean;
  /** Rows and values this run (not the counts carried over from a checkpoint). */
  run: { rows: number; values: number; ms: number };
}

/**
 * Reads a source batch by batch into a sink: maps meter keys, drops what
 * cannot be stored with a reason, creates missing meters, and saves the
 * checkpoint after each committed batch. A resumed run starts from the
 * checkpoint's position with its counts, so the final table covers the whole
 * source; readings stored but not yet checkpointed when a run died are stored
 * again on resume, harmlessly (ingest merges on meter and time).
 */
export async function runImport(source: ImportSource, sink: ReadingSink, opts: ImportJobOptions): Promise<ImportResult> {
  const started = Date.now();
  const saved = opts.restart ? undefined : opts.checkpoint?.load();
  if (saved?.done) return { counts: new ImportCounts(saved.counts), created: [], alreadyDone: true, run: { rows: 0, values: 0, ms: 0 } };
  const counts = new ImportCounts(saved?.counts);
  let position = saved?.position ?? {};
  const total = await source.remaining(position);
  const known = new Set<string>();
  const invalid = new Set<string>();
  const created: string[] = [];
  const run = { rows: 0, values: 0, ms: 0 };
  let label = '';
  const batches = source.batches(position)[Symbol.asyncIterator]();
  // The next batch is read while this one is written: source and storage are separate connections.
  let ahead = batches.next();
  try {
    for (;;) {
      const got = await ahead;
      if (got.done) break;
      ahead = batches.next();
      const batch = got.value;
      label = batch.label;
      const readings: Reading[] = [];
      const seen = new Map<string, Reading>();
      for (const row of batch.rows) {
        const meter = opts.meterMap.get(row.meter) ?? row.meter;
        const c = counts.of(meter);
        c.read++;
        if (row.badValues) c.badValues = (c.badValues ?? 0) + row.badValues;
        if (row.ts === undefined) {
          counts.skip(meter, SKIP.badTime);
          continue;
        }
        const valueCount = Object.keys(row.values).length;
        if (valueCount === 0) {
          counts.skip(meter, SKIP.noValues);
          continue;
        }
        if (invalid.has(meter) || (!known.has(meter) && !METER_ID.test(meter))) {
          invalid.add(meter);
          counts.skip(meter, SKIP.badMeter);
          continue;
        }
        const key = `${meter}\u0000${row.ts}`;
        const earlier = seen.get(key);
        if (earlier && row.partial) {
          const added = Object.keys(row.values).filter((id) => !(id in earlier.values)).length;
          Object.assign(earlier.values, row.values);
          c.merged = (c.merged ?? 0) + 1;
          c.values += added;
          run.values += added;
          continue;
        }
        if (earlier) {
          counts.skip(meter, SKIP.duplicate);
          continue;
        }
        if (!known.has(meter)) {
          known.add(meter);
          if (await sink.ensureMeter({ ...source.meter(row.meter), key: meter })) created.push(meter);
        }
        const reading = { meterId: meter, ts: row.ts, values: row.values };
        seen.set(key, reading);
        readings.push(reading);
        c.values += valueCount;
        run.values += valueCount;
      }
      await sink.write(readings);
      for (const r of readings) counts.of(r.meterId).stored++;
      run.rows += batch.rows.length;
      position = batch.position;
      opts.checkpoint?.save(position, counts.byMeter);
      opts.progress?.update(label, run.rows, total, run.values);
    }
  } finally {
    // A write that failed leaves a read in flight: let it settle, then close the source's cursor.
    await ahead.catch(() => undefined);
    await batches.return?.(undefined);
  }
  opts.checkpoint?.save(position, counts.byMeter, true);
  run.ms = Date.now() - started;
  opts.progress?.update(label || 'import', run.rows, total, run.values, true);
  opts.progress?.end();
  return { counts, created, alreadyDone: false, run };
}

/** `old=new` pairs of `--meter-map` (repeatable, or comma-separated). */
export function parseMeterMap(specs: readonly string[]): Map<string, string> {
  const map = new Map<string, string>();
  for (const spec of specs.flatMap((s) => s.split(','))) {
    if (!spec.trim()) continue;
    const eq = spec.indexOf('=');
    if (eq <= 0 || eq === spec.length - 1) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the option is not valid', { details: [{ path: '--meter-map', message: `"${spec}" is not old=new` }] });
    map.set(spec.slice(0, eq).trim(), spec.slice(eq + 1).trim());
  }
  return map;
}
