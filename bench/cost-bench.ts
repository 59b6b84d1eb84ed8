/**
 * Cost per period from minute rollups: a month of 1-minute energy rollups
 * (44,640 rows, import and export counters) priced with a time-of-use tariff,
 * beside reading the same rows alone and beside consumption without a tariff
 * (hourly rollups), in the same run.
 */
import { performance } from 'node:perf_hooks';
import { createLogger } from '../core/src/logging/logger.js';
import { RESOLUTIONS } from '../core/src/storage/reading-store.js';
import { packAggregates } from '../core/src/storage/rollups.js';
import { StorageService } from '../core/src/storage/storage-service.js';
import { TariffBook } from '../core/src/tariffs/tariff-plan.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { TARIFFS } from '../test-support/tariff-fixtures.js';
import { report, type BenchContext } from './bench-report.js';

const log = createLogger({ level: 'silent', pretty: false });
const MONTH_START = Date.parse('2026-05-01T00:00:00+02:00');
const MONTH_END = Date.parse('2026-06-01T00:00:00+02:00');
const best = (xs: number[]) => Math.min(...xs);

export async function costBench(ctx: BenchContext): Promise<void> {
  const dir = tempDataDir();
  const s = await StorageService.open({
    target: { engine: 'sqlite', filename: `${dir.dataDir}/cost-bench.db` }, dataDir: dir.dataDir, spoolMaxRows: 1000, rollupIntervalMs: 3_600_000,
    retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null }, ingest: { maxBatch: 5000, maxDelayMs: 50, maxPending: 100_000 },
  }, log);
  try {
    await s.syncConfigMeters([{ id: 'home', enabled: true, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 60000 } }]);
    const ref = (await s.refOf('home'))!;
    await s.codes.ensure(['importEnergy', 'exportEnergy']);
    const imp = s.codes.code('importEnergy')!;
    const exp = s.codes.code('exportEnergy')!;
    for (const res of ['1m', '1h'] as const) {
      const step = RESOLUTIONS[res].ms;
      const rows = [];
      for (let ts = MONTH_START, i = 0; ts < MONTH_END; ts += step, i++) {
        const d = step / 60_000;
        rows.push({ meterRef: ref, ts, data: packAggregates('energy', new Map([[imp, { first: 1000 + i * 0.01 * d, last: 1000 + (i + 1) * 0.01 * d, delta: 0.01 * d }], [exp, { first: 500, last: 500 + (i + 1) * 0.002 * d, delta: 0.002 * d }]])) });
      }
      for (let i = 0; i < rows.length; i += 5000) await s.store.writeRollups('energy', res, rows.slice(i, i + 5000));
    }
    const q = { period: 'day' as const, tz: 'Europe/Berlin', from: MONTH_START, to: MONTH_END };
    const runs = ctx.smoke ? 3 : 10;
    const time = async (fn: () => Promise<unknown>) => {
      const xs: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await fn();
        xs.push(performance.now() - t0);
      }
      return best(xs);
    };
    s.useTariffs(undefined);
    const plain = await time(() => s.consumption('home', q));
    const readOnly = await time(() => s.store.rollups('energy', ref, '1m', MONTH_START, MONTH_END, 100_000));
    // The time-of-use contract of the tests (validated configs have every field filled; this one does).
    s.useTariffs(new TariffBook({ list: [TARIFFS.list[0]!] as never, default: 'tou', meters: {} }));
    const priced = await time(() => s.consumption('home', q));
    report(ctx, 'sqlite: consumption per day over a month with costs (44,640 minute rollups priced)', `${priced.toFixed(1)} ms (best of ${runs})`,
      `reading the same minute rollups alone ${readOnly.toFixed(1)} ms; consumption without a tariff (hourly rollups) ${plain.toFixed(1)} ms`,
      `${(priced / readOnly).toFixed(2)}× the read alone (target <= 2.5×)`, priced <= 2.5 * readOnly);
  } finally {
    await s.close();
    dir.cleanup();
  }
}
