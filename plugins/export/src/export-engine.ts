import type { Writable } from 'node:stream';
import { MEASUREMENTS, type CompiledDriver, type MeterRecord, type StorageReader, type TariffView } from '@meterhub/sdk';
import { CsvSink } from './csv-sink.js';
import type { ExportRequest } from './export-request.js';
import type { Column, TableSink } from './table-sink.js';
import { EXCEL_MAX_ROWS, XlsxSink } from './xlsx-sink.js';
import { ZoneClock } from './zone-clock.js';

/** What the engine needs from the host: stored readings, meters and drivers. */
export interface ExportSources {
  storage: Pick<StorageReader, 'pages' | 'consumption'>;
  meter(id: string): Promise<MeterRecord | undefined>;
  driver(id: string): CompiledDriver | undefined;
  /** The tariff a meter pays, for the cost columns of consumption tables; undefined when it has none. */
  tariff?(meterId: string): Pick<TariffView, 'currency' | 'minorUnitDigits'> | undefined;
}

/** The cost columns of a consumption table, in the order they are written. */
export const COST_FIELDS = ['importCost', 'exportCredit', 'standingCharge', 'net'] as const;

/** Cost columns of a meter with a tariff: one set per currency, so meters billed in different currencies never share a column. */
export function costColumns(tariff: Pick<TariffView, 'currency' | 'minorUnitDigits'>): Column[] {
  return COST_FIELDS.map((f) => ({ id: `cost:${f}:${tariff.currency}`, unit: tariff.currency, label: `${f} (${tariff.currency})`, money: tariff.minorUnitDigits }));
}

export interface ExportOptions {
  pageSize?: number;
  maxRowsPerSheet?: number;
  signal?: AbortSignal;
  /** Called after each page: the share of the export done (0..1) and rows so far. */
  progress?: (fraction: number, rows: number) => void;
}

const ORDER = new Map([...MEASUREMENTS.keys()].map((id, i) => [id, i]));

/**
 * The columns of one meter: the measurements asked for, or those of the
 * family its driver reads (narrowed to the meter's own selection when it has
 * one), in vocabulary order.
 */
export function columnsFor(req: Pick<ExportRequest, 'family' | 'measurements'>, meter: MeterRecord | undefined, driver: CompiledDriver | undefined): Column[] {
  let ids: string[];
  if (req.measurements) ids = [...req.measurements];
  else {
    const ofFamily = (driver?.registers ?? []).map((r) => r.measurement).filter((m) => m.family === req.family).map((m) => m.id);
    const chosen = meter?.measurements?.length ? new Set(meter.measurements.map((n) => driver?.resolve(n)?.measurement.id ?? n)) : undefined;
    ids = chosen ? ofFamily.filter((id) => chosen.has(id)) : ofFamily;
  }
  return [...new Set(ids)]
    .sort((a, b) => (ORDER.get(a) ?? 1e9) - (ORDER.get(b) ?? 1e9))
    .map((id) => ({ id, unit: MEASUREMENTS.get(id)?.unit ?? '' }));
}

/** A file name that says what is inside: `meterhub-house-power-2026-11-01-2026-11-02.csv`. */
export function fileName(req: ExportRequest): string {
  const meters = req.meters.length > 3 ? `${req.meters.length}-meters` : req.meters.join('+');
  const day = (t: number) => new Date(t).toISOString().slice(0, 10);
  const what = req.period ? `consumption-per-${req.period}` : req.resolution === 'raw' ? req.family : `${req.family}-${req.resolution}`;
  return `meterhub-${meters}-${what}-${day(req.from)}-${day(req.to)}.${req.format}`.replace(/[^A-Za-z0-9_.+-]/g, '_');
}

export async function createSink(req: ExportRequest, out: Writable, columns: readonly Column[], opts: ExportOptions = {}): Promise<TableSink & { rowsWritten: number }> {
  const clock = new ZoneClock(req.tz);
  return req.format === 'xlsx'
    ? XlsxSink.create(out, clock, opts.maxRowsPerSheet ?? EXCEL_MAX_ROWS)
    : new CsvSink(out, clock, req.csv, columns, req.period !== undefined);
}

/**
 * Writes an export to `out`, a page of rows at a time: memory stays one page
 * whatever the range, the first bytes leave before the last query runs, and an
 * aborted signal (the client went away) stops the queries. Resolves with the
 * rows written and whether it completed.
 */
export async function runExport(req: ExportRequest, sources: ExportSources, out: Writable, opts: ExportOptions = {}): Promise<{ rows: number; completed: boolean; file: string }> {
  const tables = await Promise.all(req.meters.map(async (id) => {
    const meter = await sources.meter(id);
    const columns = columnsFor(req, meter, meter?.driver ? sources.driver(meter.driver) : undefined);
    const tariff = req.period ? sources.tariff?.(id) : undefined;
    return { id, meter, columns, costs: tariff ? costColumns(tariff) : [] };
  }));
  const union = new Map<string, Column>();
  for (const t of tables) for (const c of [...t.columns, ...t.costs]) union.set(c.id, c);
  const allColumns = [...union.values()].sort((a, b) => (ORDER.get(a.id) ?? 1e9) - (ORDER.get(b.id) ?? 1e9));
  const sink = await createSink(req, out, allColumns, opts);
  const aborted = () => opts.signal?.aborted === true;
  const span = req.to - req.from;

  for (const [index, table] of tables.entries()) {
    if (aborted()) break;
    await sink.begin({ meterId: table.id, ...(table.meter?.name ? { meterName: table.meter.name } : {}), columns: [...table.columns, ...table.costs], periods: req.period !== undefined });
    const measurements = table.columns.map((c) => c.id);
    if (req.period) {
      const periods = await sources.storage.consumption(table.id, { period: req.period, tz: req.tz, from: req.from, to: req.to, measurements });
      await sink.rows({
        length: periods.length,
        ts: Float64Array.from(periods, (p) => Date.parse(p.start)),
        end: Float64Array.from(periods, (p) => Date.parse(p.end)),
        partial: Uint8Array.from(periods, (p) => (p.partial ? 1 : 0)),
        values: Object.fromEntries([
          ...measurements.map((m) => [m, Float64Array.from(periods, (p) => p.values[m] ?? Number.NaN)] as const),
          ...table.costs.map((c, k) => [c.id, Float64Array.from(periods, (p) => p.cost?.[COST_FIELDS[k]!] ?? Number.NaN)] as const),
        ]),
      });
      opts.progress?.((index + 1) / tables.length, sink.rowsWritten);
      continue;
    }
    for await (const page of sources.storage.pages(table.id, {
      family: req.family, from: req.from, to: req.to, resolution: req.resolution, measurements, pageSize: opts.pageSize ?? 1000,
    })) {
      // Leaving the loop ends the generator, so no further query runs.
      if (aborted()) break;
      await sink.rows(page);
      const last = page.length ? page.ts[page.length - 1]! : req.to;
      opts.progress?.((index + Math.min(1, (last - req.from + 1) / span)) / tables.length, sink.rowsWritten);
    }
    if (!aborted()) opts.progress?.((index + 1) / tables.length, sink.rowsWritten);
  }
  if (aborted()) return { rows: sink.rowsWritten, completed: false, file: fileName(req) };
  await sink.finish();
  return { rows: sink.rowsWritten, completed: true, file: fileName(req) };
}
