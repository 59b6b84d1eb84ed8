import { MeterhubError, type CompiledDriver } from '@meterhub/sdk';
import type { Command } from 'commander';
import { parseColumnMap } from '../../import/column-mapping.js';
import { CheckpointFile } from '../../import/import-checkpoint.js';
import { parseMeterMap, runImport, type ImportSource } from '../../import/import-job.js';
import { ImportProgress } from '../../import/import-progress.js';
import { DryRunSink, StorageSink } from '../../import/reading-sink.js';
import { createLogger } from '../../logging/logger.js';
import { StorageService, storageSettings } from '../../storage/storage-service.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

type DriverLookup = { get(id: string): CompiledDriver | undefined; list(): Iterable<{ id: string }> };

interface CommonOptions {
  meterMap?: string[];
  columnMap?: string[];
  driver?: string;
  tz?: string;
  timeColumn?: string;
  meterColumn?: string;
  dryRun?: boolean;
  restart?: boolean;
  pageSize: string;
  progressInterval: string;
}

interface SqlOptions extends CommonOptions {
  from: string;
  table?: string[];
  metersTable?: string;
}

interface CsvOptions extends CommonOptions {
  meter?: string;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function common(cmd: Command): Command {
  return cmd
    .option('--time-column <name>', 'the time column')
    .option('--meter-column <name>', 'the column holding the meter key')
    .option('--tz <zone>', 'IANA zone of times written without an offset', undefined)
    .option('--meter-map <old=new>', 'store a source meter under another meter id (repeatable, or comma-separated)', collect)
    .option('--column-map <name=measurement>', 'read a column (or a long file\'s name, e.g. a Home Assistant entity) as a measurement (repeatable)', collect)
    .option('--driver <id>', 'driver of created meters; old three-phase fields (voltage, current) read as such when it is a three-phase driver')
    .option('--dry-run', 'print the mapping and the counts it would store; write nothing')
    .option('--restart', 'ignore the checkpoint and read the source from the start (ingest merges, so nothing doubles)')
    .option('--page-size <rows>', 'rows per read and per write', '5000')
    .option('--progress-interval <ms>', 'least time between progress lines when stderr is not a terminal', '1000');
}

function positiveInt(value: string, option: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'the option is not valid', { details: [{ path: option, message: `"${value}" is not a positive integer` }] });
  return n;
}

/**
 * Runs one import: opens the host's storage (the configured database), reads
 * the source into it through the storage sink, and prints the counts. A dry
 * run reads the whole source the same way and writes nothing (no meters, no
 * readings, no checkpoint).
 */
async function run(o: CommonOptions, cmd: Command, open: (driver: CompiledDriver | undefined, drivers: DriverLookup, columnMap: Map<string, string>) => Promise<ImportSource>): Promise<void> {
  const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), {}, true);
  await host.prepare();
  const driver = o.driver ? host.drivers.get(o.driver) : undefined;
  if (o.driver && !driver) throw new MeterhubError('METERHUB_ERR_DRIVER_UNKNOWN', `no driver "${o.driver}"`, { details: [{ path: '--driver', message: `no driver "${o.driver}"`, hint: `loaded: ${[...host.drivers.list()].map((d) => d.id).join(', ')}` }] });
  const meterMap = parseMeterMap(o.meterMap ?? []);
  const interval = Number(o.progressInterval);
  const source = await open(driver, host.drivers, parseColumnMap(o.columnMap ?? []));
  const storage = await StorageService.open(storageSettings({ storage: host.config.storage, dataDir: host.dataDir }), createLogger({ level: 'warn', fd: 2 }));
  try {
    const out = o.dryRun ? process.stdout : process.stderr;
    out.write(`${source.describe().join('\n')}\n`);
    if (meterMap.size) out.write(`meter map: ${[...meterMap].map(([a, b]) => `${a} → ${b}`).join(', ')}\n`);
    const sink = o.dryRun ? new DryRunSink(async (key) => (await storage.refOf(key)) !== undefined) : new StorageSink(storage);
    const checkpoint = o.dryRun ? undefined : new CheckpointFile(host.dataDir, source.id);
    const progress = new ImportProgress(process.stderr, Number.isFinite(interval) ? interval : 1000);
    const result = await runImport(source, sink, { meterMap, progress, ...(checkpoint ? { checkpoint } : {}), ...(o.restart || o.dryRun ? { restart: true } : {}) });
    if (result.alreadyDone) process.stderr.write(`already imported (checkpoint ${checkpoint!.path}); --restart reads it again\n`);
    const left = source.notImported?.() ?? [];
    if (left.length) out.write(`not imported:\n${left.map((l) => `  ${l}`).join('\n')}\n`);
    if (result.created.length) process.stdout.write(`${o.dryRun ? 'would create' : 'created'} meter(s): ${result.created.join(', ')}\n`);
    process.stdout.write(`${result.counts.format(o.dryRun ? 'would store' : 'stored').join('\n')}\n`);
    if (!result.alreadyDone && result.run.ms > 0) {
      process.stdout.write(`${result.run.values.toLocaleString('en')} values in ${(result.run.ms / 1000).toFixed(1)} s (${Math.round(result.run.values / (result.run.ms / 1000)).toLocaleString('en')} values/s)\n`);
    }
    if (!o.dryRun) {
      // The imported minutes are rolled up by ranges now, so history at every resolution is complete when the command ends.
      process.stderr.write('rolling up the imported minutes\n');
      const started = Date.now();
      const minutes = await storage.refresh();
      process.stdout.write(`rolled up ${minutes.toLocaleString('en')} meter-minutes in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    await source.close();
    // After a failure the minutes stay marked: the host's rollup job does them.
    await storage.close({ rollUp: false });
  }
}

/** `meterhub import sql|csv`: history from the old system's database or from CSV files (docs/import.md). */
export function registerImport(program: Command): void {
  const imp = program.command('import').description('bring history in: the old system\'s PostgreSQL tables, or CSV files');
  common(imp.command('sql')
    .description('import readings tables of a PostgreSQL database (defaults: the old Django tables)')
    .requiredOption('--from <url>', 'postgres://user:password@host:port/database')
    .option('--table <name>', 'a readings table (repeatable; default: meters_powerreading and meters_energyreading)', collect)
    .option('--meters-table <name>', 'table naming the old meters (id, name, model)', 'meters_meter'))
    .action(async (o: SqlOptions, cmd: Command) => {
      const { SqlSource } = await import('../../import/sql-source.js');
      await run(o, cmd, (driver, drivers, columnMap) => SqlSource.open({ columnMap,
        url: o.from, tables: o.table ?? [], ...(o.metersTable ? { metersTable: o.metersTable } : {}), ...(o.meterColumn ? { meterColumn: o.meterColumn } : {}),
        ...(o.timeColumn ? { timeColumn: o.timeColumn } : {}), ...(o.tz ? { tz: o.tz } : {}), pageSize: positiveInt(o.pageSize, '--page-size'), ...(driver ? { driver } : {}), drivers,
      }));
    });
  common(imp.command('csv')
    .description('import a CSV file: this product\'s export, or any table with a time column')
    .argument('<file>', 'the CSV file')
    .option('--meter <id>', 'the meter of every row, for files without a meter column'))
    .action(async (file: string, o: CsvOptions, cmd: Command) => {
      const { CsvSource } = await import('../../import/csv-source.js');
      await run(o, cmd, (driver, _drivers, columnMap) => CsvSource.open({ columnMap,
        file, ...(o.timeColumn ? { timeColumn: o.timeColumn } : {}), ...(o.meter ? { meter: o.meter } : {}), ...(o.meterColumn ? { meterColumn: o.meterColumn } : {}),
        ...(o.tz ? { tz: o.tz } : {}), pageSize: positiveInt(o.pageSize, '--page-size'), ...(driver ? { driver } : {}),
      }));
    });
}
