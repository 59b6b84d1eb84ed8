import type { Writable } from 'node:stream';
import { float32Decimal } from '@meterhub/sdk';
import { columnLabel, drained, type Column, type Page, type TableHead, type TableSink } from './table-sink.js';
import type { ZoneClock } from './zone-clock.js';

const CHUNK = 64 * 1024;

export interface CsvOptions {
  delimiter: string;
  decimal: '.' | ',';
  bom: boolean;
}

/**
 * RFC 4180 CSV: CRLF line ends, fields quoted when they hold the delimiter, a
 * quote or a line break. One header for all meters (the union of their
 * columns), a `meter` column, times in ISO 8601 with the zone's offset. With
 * `decimal: ','` numbers use a comma, for spreadsheets in locales that expect
 * one (then the delimiter is `;` or a tab). Consumption tables have `start`,
 * `end` and `partial` (true for a period covered only in part), and for meters
 * with a tariff cost columns in the currency's minor unit (`12.30`).
 */
export class CsvSink implements TableSink {
  #columns: readonly Column[] = [];
  #periods = false;
  #started = false;
  #meterCell = '';
  rowsWritten = 0;
  readonly #spare: Buffer[] = [];

  constructor(private readonly out: Writable, private readonly clock: ZoneClock, private readonly opts: CsvOptions, allColumns: readonly Column[], periods: boolean) {
    this.#columns = allColumns;
    this.#periods = periods;
  }

  #field(text: string): string {
    return /["\r\n]/.test(text) || text.includes(this.opts.delimiter) ? `"${text.replace(/"/g, '""')}"` : text;
  }

  /** The value as the meter meant it: a float32 as its shortest decimal (230.3873, not 230.38729858398438). */
  #number(v: number, money?: number): string {
    if (!Number.isFinite(v)) return '';
    const s = money === undefined ? String(float32Decimal(v)) : v.toFixed(money);
    return this.opts.decimal === ',' ? s.replace('.', ',') : s;
  }

  async begin(head: TableHead): Promise<void> {
    if (!this.#started) {
      this.#started = true;
      const d = this.opts.delimiter;
      const times = this.#periods ? [`start (${this.clock.tz})`, `end (${this.clock.tz})`, 'partial'] : [`time (${this.clock.tz})`];
      const header = [...times, 'meter', ...this.#columns.map(columnLabel)].map((f) => this.#field(f)).join(d);
      this.out.write(`${this.opts.bom ? '\ufeff' : ''}${header}\r\n`);
    }
    this.#meterCell = this.#field(head.meterId);
  }

  /**
   * Lines go straight into 64 KB buffers: a page's text built as one string
   * lived long enough to be promoted to the old generation, and collecting it
   * there cost more than writing it. Every character of a data line is ASCII
   * (times, numbers, meter ids, delimiters), so latin1 is exact.
   */
  async rows(page: Page): Promise<void> {
    const d = this.opts.delimiter;
    const columns = this.#columns.map((c) => page.values[c.id]);
    const money = this.#columns.map((c) => c.money);
    const used: Buffer[] = [];
    const fresh = (size: number) => (size <= CHUNK ? this.#spare.pop() : undefined) ?? Buffer.allocUnsafe(Math.max(CHUNK, size));
    let buf = fresh(CHUNK);
    let o = 0;
    for (let r = 0; r < page.length; r++) {
      let line = this.clock.iso(page.ts[r]!);
      if (this.#periods) line += d + (page.end ? this.clock.iso(page.end[r]!) : '') + d + (page.partial?.[r] ? 'true' : 'false');
      line += d + this.#meterCell;
      for (let c = 0; c < columns.length; c++) line += d + (columns[c] ? this.#number(columns[c]![r]!, money[c]) : '');
      line += '\r\n';
      if (o + line.length > buf.length) {
        this.out.write(buf.subarray(0, o));
        used.push(buf);
        buf = fresh(line.length);
        o = 0;
      }
      o += buf.write(line, o, 'latin1');
    }
    if (o > 0) this.out.write(buf.subarray(0, o));
    used.push(buf);
    this.rowsWritten += page.length;
    await drained(this.out);
    // Everything written has left the stream: its buffers serve the next page.
    // Fresh 64 KB buffers per page fragmented the allocator, and RSS crept up export after export.
    if (this.out.writableLength === 0) this.#spare.push(...used.filter((b) => b.length === CHUNK));
  }

  async finish(): Promise<void> {
    await new Promise<void>((resolve, reject) => this.out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  }
}
