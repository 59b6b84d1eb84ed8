import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Writable } from 'node:stream';
import type { Command } from 'commander';
import type { RegisterCli } from '@meterhub/sdk';
import { fileName, runExport } from './export-engine.js';
import { DEFAULT_RANGE_LIMITS } from './export-limits.js';
import { parseExportRequest } from './export-request.js';

interface ExportCliOptions {
  meters: string;
  format?: string;
  family?: string;
  measurements?: string;
  from?: string;
  to?: string;
  resolution?: string;
  period?: string;
  tz?: string;
  delimiter?: string;
  decimal?: string;
  bom?: boolean;
  out?: string;
  progress?: boolean;
}

function progressBar(enabled: boolean): (fraction: number, rows: number) => void {
  let last = 0;
  return (fraction, rows) => {
    const now = Date.now();
    if (!enabled || (now - last < 100 && fraction < 1)) return;
    last = now;
    const width = 30;
    const filled = Math.round(Math.min(1, fraction) * width);
    process.stderr.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${rows.toLocaleString('en')} rows `);
  };
}

/**
 * `meterhub export`: the same files as `GET /api/export/`, written straight
 * from the database by the same engine. The file appears under its name only
 * when complete (written to `<name>.part`, then renamed). The host loads this
 * module only when `meterhub export` runs (`meterhub.cli` in package.json).
 */
export const registerCli: RegisterCli<Command> = (program, cli) => {
  program.command('export')
    .description('write history to a CSV or Excel file, like GET /api/export/ (no server needed)')
    .requiredOption('--meters <ids>', 'comma-separated meter ids, or "*"')
    .option('--format <csv|xlsx>', 'file format', 'csv')
    .option('--family <power|energy>', 'instant values or counters', 'power')
    .option('--measurements <ids>', 'comma-separated measurement ids (default: all of the family)')
    .option('--from <time>', 'ISO 8601 or epoch ms (default: a day before --to)')
    .option('--to <time>', 'ISO 8601 or epoch ms (default: now)')
    .option('--resolution <raw|1m|1h|1d>', 'raw rows or rollups', 'raw')
    .option('--period <day|week|month>', 'energy: consumption per local period instead of a series')
    .option('--tz <zone>', 'IANA time zone of the timestamps', 'UTC')
    .option('--delimiter <,|;|tab>', 'CSV field delimiter', ',')
    .option('--decimal <.|,>', 'CSV decimal separator', '.')
    .option('--bom', 'CSV: start with a UTF-8 BOM (for Excel)')
    .option('--out <file>', 'output file; "-" for stdout (default: a descriptive name in the current folder)')
    .option('--progress', 'show a progress bar even when stderr is not a terminal')
    .action(async (o: ExportCliOptions, cmd: Command) => {
      const session = await cli.open(cmd.optsWithGlobals<{ config?: string }>());
      try {
        const { meters, storage, drivers, tariffs } = session;
        const configured = (session.config['maxRangeDays'] ?? {}) as Partial<typeof DEFAULT_RANGE_LIMITS>;
        const query: Record<string, unknown> = {
          meters: o.meters, format: o.format, family: o.family, resolution: o.resolution, tz: o.tz, delimiter: o.delimiter, decimal: o.decimal, bom: o.bom === true,
          ...(o.measurements ? { measurements: o.measurements } : {}), ...(o.from ? { from: o.from } : {}), ...(o.to ? { to: o.to } : {}), ...(o.period ? { period: o.period } : {}),
        };
        const request = await parseExportRequest(query, { meters }, { ...DEFAULT_RANGE_LIMITS, ...configured });
        const toStdout = o.out === '-';
        const target = toStdout ? '-' : resolve(o.out ?? fileName(request));
        const out: Writable = toStdout ? process.stdout : createWriteStream(`${target}.part`);
        const showProgress = !toStdout && (o.progress === true || process.stderr.isTTY === true);
        try {
          // Consumption tables gain the cost columns of meters with a tariff, as the endpoint's do.
          const sources = { storage, meter: (id: string) => meters.get(id), driver: (id: string) => drivers.get(id), tariff: (id: string) => tariffs.forMeter(id) };
          const result = await runExport(request, sources, out, { progress: progressBar(showProgress) });
          if (showProgress) process.stderr.write('\n');
          if (!toStdout) await rename(`${target}.part`, target);
          process.stderr.write(`wrote ${result.rows.toLocaleString('en')} rows${toStdout ? '' : ` to ${target}`}\n`);
        } catch (err) {
          if (!toStdout) await rm(`${target}.part`, { force: true });
          throw err;
        }
      } finally {
        await session.close();
      }
    });
};
