import type { Writable } from 'node:stream';

/** A column of an export: a measurement with its unit, or an amount of money (consumption tables of meters with a tariff). */
export interface Column {
  id: string;
  unit: string;
  /** Header text when it is not `id (unit)`. */
  label?: string;
  /** Money: digits of the currency's minor unit, written exactly (never as a float32). */
  money?: number;
}

/** One table: a meter's rows (time series or consumption per period). */
export interface TableHead {
  meterId: string;
  meterName?: string;
  columns: readonly Column[];
  /** Consumption tables have a start and an end per row. */
  periods: boolean;
}

/** Rows as columns (the storage's page shape): NaN marks a missing value. */
export interface Page {
  length: number;
  ts: Float64Array;
  /** End of each period (consumption tables). */
  end?: Float64Array;
  /** 1 where the range or the stored data cover the period only in part (consumption tables). */
  partial?: Uint8Array;
  values: Readonly<Record<string, Float64Array>>;
}

/** What each export format is sent as; the file name's extension is the format itself. */
export const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
} as const;

/** Where an export goes: a CSV or an xlsx writer over a byte stream. */
export interface TableSink {
  begin(head: TableHead): Promise<void>;
  rows(page: Page): Promise<void>;
  finish(): Promise<void>;
}

export const columnLabel = (c: Column): string => c.label ?? (c.unit ? `${c.id} (${c.unit})` : c.id);

/**
 * Resolves once `out` can take more: the producer (one page of rows at a
 * time) never runs ahead of a slow reader by more than a page.
 */
export function drained(out: Writable): Promise<void> {
  if (!out.writableNeedDrain) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const done = () => {
      out.off('drain', done);
      out.off('close', done);
      out.off('error', fail);
      resolve();
    };
    const fail = (err: Error) => {
      out.off('drain', done);
      out.off('close', done);
      reject(err);
    };
    out.on('drain', done);
    out.on('close', done);
    out.once('error', fail);
  });
}
