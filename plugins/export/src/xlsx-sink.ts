import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { setImmediate as yieldToIo } from 'node:timers/promises';
import type ExcelJS from 'exceljs';
import { float32Decimal } from '@meterhub/sdk';
import { columnLabel, drained, type Page, type TableHead, type TableSink } from './table-sink.js';
import type { ZoneClock } from './zone-clock.js';

/** Excel's limit: rows per worksheet, the header included. */
export const EXCEL_MAX_ROWS = 1_048_576;

type Sheet = ExcelJS.Worksheet;

/** Sheet names: at most 31 characters, none of `[]:*?/\`. */
function sheetName(base: string, part: number, used: Set<string>): string {
  const suffix = part > 1 ? ` (${part})` : '';
  let name = `${base.replace(/[[\]:*?/\\]/g, '_').slice(0, 31 - suffix.length)}${suffix}`;
  for (let n = 2; used.has(name.toLowerCase()); n++) name = `${name.slice(0, 27)}~${n}`;
  used.add(name.toLowerCase());
  return name;
}

/**
 * Excel through exceljs's streaming WorkbookWriter: one sheet per meter with a
 * frozen header, times as real date cells (the zone's wall-clock time, since
 * Excel dates carry no zone), values as numbers; a sheet that would pass
 * Excel's row limit continues on a new sheet "<meter> (2)".
 */
export class XlsxSink implements TableSink {
  readonly #book: ExcelJS.stream.xlsx.WorkbookWriter;
  readonly #names = new Set<string>();
  #head: TableHead | undefined;
  #sheet: Sheet | undefined;
  #rowsInSheet = 0;
  #part = 0;
  rowsWritten = 0;

  private constructor(excel: typeof ExcelJS, private readonly out: Writable, private readonly clock: ZoneClock, private readonly maxRowsPerSheet: number) {
    this.#book = new excel.stream.xlsx.WorkbookWriter({ stream: out, useStyles: true, useSharedStrings: false });
    this.#book.creator = 'meterhub';
  }

  /** exceljs is loaded on the first xlsx export: it adds ~27 MB to a host that may never write one. */
  static async create(out: Writable, clock: ZoneClock, maxRowsPerSheet = EXCEL_MAX_ROWS): Promise<XlsxSink> {
    const excel = (await import('exceljs')).default;
    return new XlsxSink(excel, out, clock, maxRowsPerSheet);
  }

  #openSheet(): void {
    const head = this.#head!;
    this.#sheet?.commit();
    this.#part++;
    const sheet = this.#book.addWorksheet(sheetName(head.meterName ? `${head.meterId} ${head.meterName}` : head.meterId, this.#part, this.#names), {
      views: [{ state: 'frozen', ySplit: 1 }],
    });
    const dateStyle = { numFmt: 'yyyy-mm-dd hh:mm:ss' };
    sheet.columns = [
      ...(head.periods
        ? [{ header: `start (${this.clock.tz})`, width: 20, style: dateStyle }, { header: `end (${this.clock.tz})`, width: 20, style: dateStyle }, { header: 'partial', width: 9 }]
        : [{ header: `time (${this.clock.tz})`, width: 20, style: dateStyle }]),
      ...head.columns.map((c) => ({
        header: columnLabel(c), width: Math.max(12, columnLabel(c).length + 2),
        ...(c.money !== undefined ? { style: { numFmt: c.money > 0 ? `0.${'0'.repeat(c.money)}` : '0' } } : {}),
      })),
    ];
    sheet.getRow(1).font = { bold: true };
    sheet.getRow(1).commit();
    this.#sheet = sheet;
    this.#rowsInSheet = 1;
  }

  async begin(head: TableHead): Promise<void> {
    this.#head = head;
    this.#part = 0;
    this.#openSheet();
  }

  async rows(page: Page): Promise<void> {
    const head = this.#head!;
    const columns = head.columns.map((c) => page.values[c.id]);
    const money = head.columns.map((c) => c.money !== undefined);
    for (let r = 0; r < page.length; r++) {
      if (this.#rowsInSheet >= this.maxRowsPerSheet) this.#openSheet();
      // A missing value stays a hole: no cell is written for it at all.
      const cells: Array<Date | number | boolean | undefined> = [this.clock.wallClock(page.ts[r]!)];
      if (head.periods) cells.push(page.end ? this.clock.wallClock(page.end[r]!) : undefined, page.partial?.[r] === 1);
      for (let c = 0; c < columns.length; c++) {
        const v = columns[c] ? columns[c]![r]! : Number.NaN;
        cells.push(Number.isFinite(v) ? (money[c] ? v : float32Decimal(v)) : undefined);
      }
      this.#sheet!.addRow(cells).commit();
      this.#rowsInSheet++;
    }
    this.rowsWritten += page.length;
    await this.#caughtUp();
    await drained(this.out);
  }

  /**
   * Waits until the zip has compressed what the sheet produced. exceljs's
   * sheet stream ignores back-pressure: rows committed faster than zlib
   * deflates them pile up in memory (the whole sheet's XML, hundreds of MB for
   * a million rows). Its consumer (archiver's input stream) does report it.
   */
  async #caughtUp(): Promise<void> {
    await yieldToIo();
    // archiver's own readable-stream PassThrough: no writableNeedDrain getter, but the same state underneath.
    const input = (this.#sheet as unknown as { stream?: { pipes?: Array<Writable & { _writableState?: { needDrain?: boolean } }> } } | undefined)?.stream?.pipes?.[0];
    while (input?._writableState?.needDrain && !input.destroyed) await once(input, 'drain');
  }

  async finish(): Promise<void> {
    if (!this.#sheet) {
      // An export without meters still makes a valid workbook.
      this.#book.addWorksheet('empty').commit();
    }
    this.#sheet?.commit();
    await this.#book.commit();
  }
}
