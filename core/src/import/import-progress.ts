/**
 * Progress on stderr: rows done of the total, values per second and the time
 * left. On a terminal one line is redrawn; otherwise (a log, a pipe) a plain
 * line is written every `intervalMs`, so logs stay readable.
 */
export class ImportProgress {
  readonly #start = Date.now();
  #last = 0;
  #drawn = false;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly intervalMs = 1000,
    private readonly now: () => number = Date.now,
  ) {}

  /** `rows` and `values` count this run only, so the rate is this run's. */
  update(label: string, rows: number, total: number | undefined, values: number, force = false): void {
    const t = this.now();
    if (!force && t - this.#last < this.intervalMs) return;
    this.#last = t;
    const secs = Math.max(0.001, (t - this.#start) / 1000);
    const rate = values / secs;
    const rowRate = rows / secs;
    const pct = total ? ` ${Math.min(100, (rows / total) * 100).toFixed(1).padStart(5)}%` : '';
    const eta = total && rowRate > 0 ? `  ETA ${formatDuration(Math.max(0, total - rows) / rowRate)}` : '';
    const line = `${label}${pct}  ${rows.toLocaleString('en')}${total ? `/${total.toLocaleString('en')}` : ''} rows  ${Math.round(rate).toLocaleString('en')} values/s${eta}`;
    if (this.out.isTTY) {
      this.out.write(`\r\x1b[K${line}`);
      this.#drawn = true;
    } else this.out.write(`${line}\n`);
  }

  /** Ends the redrawn line before other output. */
  end(): void {
    if (this.#drawn) this.out.write('\n');
    this.#drawn = false;
  }
}

export function formatDuration(seconds: number): string {
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}
