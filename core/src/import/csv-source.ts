import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'csv-parse';
import { MeterhubError } from '@meterhub/sdk';
import { formatMapping, mapColumns, type ColumnMapping } from './column-mapping.js';
import { parseCsvTime } from './csv-time.js';
import type { ImportBatch, ImportRow, ImportSource } from './import-job.js';
import type { ImportedMeter } from './reading-sink.js';

export interface CsvSourceOptions {
  file: string;
  /** The time column (default: `time`, `time (zone)`, `timestamp`, `_time`, `datetime`, `date`). */
  timeColumn?: string;
  /** One meter for every row, for files without a meter column. */
  meter?: string;
  /** The meter column (default: `meter`, `meter_id`). */
  meterColumn?: string;
  /** Zone of times written without an offset (default: the zone in the export's header, else UTC). */
  tz?: string;
  /** Rows per batch (the cut waits for the end of a time). */
  pageSize?: number;
  driver?: { id: string; resolve(name: string): unknown };
  /** Column (or long file's measurement) names → measurement ids, before the built-in table (`--column-map`). */
  columnMap?: ReadonlyMap<string, string>;
}

const TIME_NAMES = ['time', 'timestamp', '_time', 'datetime', 'date', 'last_changed'];
const METER_NAMES = ['meter', 'meter_id', 'meterid'];
/** Long files: one value per row, named by these columns (Home Assistant's history: `entity_id`, `state`). */
const LONG = [['measurement', 'value'], ['_field', '_value'], ['entity_id', 'state']] as const;

/** Which of `,` `;` and tab separates the header's fields (the most frequent outside quotes). */
export function detectDelimiter(headerLine: string): string {
  const plain = headerLine.replace(/"[^"]*"/g, '');
  return [',', ';', '\t'].map((d) => [d, plain.split(d).length] as const).sort((a, b) => b[1] - a[1])[0]![0];
}

/** The header line: the first that is not empty nor an annotation (InfluxDB's `#datatype …` lines). */
async function firstLine(file: string): Promise<string> {
  for await (const chunk of createReadStream(file, { encoding: 'utf8', end: 64 * 1024 })) {
    return String(chunk).replace(/^\ufeff/, '').split(/\r?\n/).find((l) => l.trim() && !l.startsWith('#')) ?? '';
  }
  return '';
}

async function countLines(file: string): Promise<number> {
  let n = 0;
  for await (const chunk of createReadStream(file)) {
    const buf = chunk as Buffer;
    for (let i = buf.indexOf(10); i !== -1; i = buf.indexOf(10, i + 1)) n++;
  }
  return n;
}

/**
 * A CSV file: this product's export (`time (zone)`, `meter`, one
 * `measurement (unit)` column each; either delimiter and decimal mark), a long
 * file (`measurement`, `value` per row) or any table with a time column and
 * quantity columns named like the old API's fields or the vocabulary. The
 * delimiter is detected from the header; a decimal comma is read wherever the
 * delimiter is not a comma. The position is the count of records consumed.
 */
export class CsvSource implements ImportSource {
  readonly id: string;
  readonly #file: string;
  readonly #delimiter: string;
  readonly #header: string[];
  readonly #tz: string;
  readonly #timeColumn: string;
  readonly #meterColumn: string | undefined;
  readonly #long: { measurement: string; value: string } | undefined;
  readonly #mapping: ColumnMapping;

  private constructor(readonly opts: CsvSourceOptions, file: string, size: number, header: string[], delimiter: string) {
    this.#file = file;
    this.id = `csv ${file} ${size}`;
    this.#delimiter = delimiter;
    this.#header = header;
    const lower = header.map((h) => h.toLowerCase());
    const find = (names: readonly string[]) => header[lower.findIndex((h) => names.includes(h.replace(/\s*\([^)]*\)\s*$/, '')))];
    const problems = [];
    const time = opts.timeColumn ? header.find((h) => h === opts.timeColumn) : find(TIME_NAMES);
    if (!time) problems.push({ path: '--time-column', message: opts.timeColumn ? `no column "${opts.timeColumn}"` : 'no time column found', hint: `columns: ${header.join(', ')}` });
    const meterColumn = opts.meter ? undefined : opts.meterColumn ? header.find((h) => h === opts.meterColumn) : find(METER_NAMES);
    if (!opts.meter && !meterColumn) problems.push({ path: opts.meterColumn ? '--meter-column' : '--meter', message: opts.meterColumn ? `no column "${opts.meterColumn}"` : 'the file has no meter column: name the meter with --meter ID' });
    const zoneInHeader = time ? /\(([^)]+)\)\s*$/.exec(time)?.[1] : undefined;
    this.#tz = opts.tz ?? zoneInHeader ?? 'UTC';
    try {
      new Intl.DateTimeFormat('en', { timeZone: this.#tz });
    } catch {
      problems.push({ path: '--tz', message: `"${this.#tz}" is not an IANA time zone` });
    }
    if (problems.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', `cannot import ${file}`, { details: problems });
    this.#timeColumn = time!;
    this.#meterColumn = meterColumn;
    const long = LONG.find(([m, v]) => lower.includes(m) && lower.includes(v));
    this.#long = long ? { measurement: header[lower.indexOf(long[0])]!, value: header[lower.indexOf(long[1])]! } : undefined;
    const structural = [this.#timeColumn, ...(meterColumn ? [meterColumn] : []), 'end', ...(zoneInHeader ? [`end (${zoneInHeader})`] : [])];
    this.#mapping = this.#long ? { mapped: [], unmatched: [] } : mapColumns(header, opts.driver, structural, opts.columnMap);
  }

  static async open(opts: CsvSourceOptions): Promise<CsvSource> {
    const file = resolve(opts.file);
    let size: number;
    try {
      size = (await stat(file)).size;
    } catch (err) {
      throw new MeterhubError('METERHUB_ERR_VALIDATION', `cannot read ${opts.file}`, { details: [{ path: 'FILE', message: (err as Error).message }] });
    }
    const line = await firstLine(file);
    const delimiter = detectDelimiter(line);
    const header = await new Promise<string[]>((ok, fail) => parse(line, { delimiter, trim: true }, (err, rows: string[][]) => (err ? fail(err) : ok(rows[0] ?? []))));
    return new CsvSource(opts, file, size, header, delimiter);
  }

  describe(): string[] {
    const lines = [`source: ${this.#file}  (delimiter ${JSON.stringify(this.#delimiter)}, time column "${this.#timeColumn}" in ${this.#tz}, ${this.#meterColumn ? `meter column "${this.#meterColumn}"` : `meter "${this.opts.meter}"`})`];
    if (this.#long) lines.push(`long format: measurement in "${this.#long.measurement}", value in "${this.#long.value}" (names mapped row by row)`);
    else lines.push(...formatMapping('columns', this.#mapping));
    return lines;
  }

  meter(key: string): ImportedMeter {
    return { key, ...(this.opts.driver ? { driver: this.opts.driver.id } : {}) };
  }

  async remaining(position: Record<string, unknown>): Promise<number> {
    return Math.max(0, (await countLines(this.#file)) - 1 - Number(position['records'] ?? 0));
  }

  #number(cell: string | undefined): number | 'bad' | undefined {
    const s = cell?.trim();
    if (!s) return undefined;
    const text = this.#delimiter !== ',' && /^-?\d*,\d+$/.test(s) ? s.replace(',', '.') : s;
    const v = Number(text);
    return Number.isFinite(v) ? v : 'bad';
  }

  async *batches(position: Record<string, unknown>): AsyncGenerator<ImportBatch> {
    const skip = Number(position['records'] ?? 0);
    const pageSize = this.opts.pageSize ?? 5000;
    const parser = createReadStream(this.#file).pipe(parse({ delimiter: this.#delimiter, bom: true, columns: true, relax_column_count: true, skip_empty_lines: true, comment: '#', comment_no_infix: true, from: skip + 1 }));
    const mapped = this.#mapping.mapped;
    const unknownLong = new Set<string>();
    const lastTs = new Map<string, number>();
    let records = skip;
    let rows: ImportRow[] = [];
    /** The record count at the end of each row: a long file's rows span several records. */
    let ends: number[] = [];
    let lastEnd = skip;
    let lastTime: string | undefined;
    let cutAt = 0;
    const emit = (upTo: number): ImportBatch => {
      const out = rows.slice(0, upTo);
      const end = upTo ? ends[upTo - 1]! : lastEnd;
      lastEnd = end;
      rows = rows.slice(upTo);
      ends = ends.slice(upTo);
      return { rows: out, position: { records: end }, label: 'csv' };
    };
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      records++;
      const timeText = record[this.#timeColumn] ?? '';
      // InfluxDB repeats the header before each table of its output.
      if (timeText === this.#timeColumn) continue;
      if (rows.length >= pageSize && timeText !== lastTime) cutAt = rows.length;
      if (cutAt) {
        yield emit(cutAt);
        cutAt = 0;
      }
      lastTime = timeText;
      const meter = this.opts.meter ?? record[this.#meterColumn!] ?? '';
      const ts = parseCsvTime(timeText, this.#tz, lastTs.get(meter));
      if (ts !== undefined) lastTs.set(meter, ts);
      const values: Record<string, number> = {};
      let bad = 0;
      if (this.#long) {
        const name = (record[this.#long.measurement] ?? '').trim();
        const [m] = mapColumns([name], this.opts.driver, [], this.opts.columnMap).mapped;
        const v = this.#number(record[this.#long.value]);
        if (!m) unknownLong.add(name);
        else if (v === 'bad') bad++;
        else if (v !== undefined) values[m.measurement] = v;
        // Consecutive rows of one meter and time are one reading.
        const prev = rows[rows.length - 1];
        if (prev && prev.meter === meter && prev.ts === ts && ts !== undefined) {
          Object.assign(prev.values, values);
          prev.badValues = (prev.badValues ?? 0) + bad;
          ends[ends.length - 1] = records;
          continue;
        }
      } else {
        for (const m of mapped) {
          const v = this.#number(record[m.column]);
          if (v === 'bad') bad++;
          else if (v !== undefined) values[m.measurement] = v;
        }
      }
      rows.push({ meter, ts, values, ...(bad ? { badValues: bad } : {}), ...(this.#long ? { partial: true } : {}) });
      ends.push(records);
    }
    this.#unknownLong = [...unknownLong];
    yield emit(rows.length);
  }

  #unknownLong: string[] = [];

  /** Names in a long file's measurement column that matched nothing, with suggestions (after reading). */
  notImported(): string[] {
    return this.#unknownLong.map((name) => formatMapping('', mapColumns([name], this.opts.driver, [], this.opts.columnMap)).slice(1).join('').trim());
  }

  async close(): Promise<void> {}
}
