import type { Command } from 'commander';
import { MeterhubError } from '@meterhub/sdk';
import { createLogger } from '../../logging/logger.js';
import { copyDatabase, parseDatabaseUrl } from '../../storage/db-copy.js';
import { StorageService, storageSettings, type StorageSettings } from '../../storage/storage-service.js';
import { readConfigFile, resolveDataDir, locateConfig } from '../../config/config-file.js';
import type { StorageTarget } from '../../storage/knex-factory.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

function settingsFor(target: StorageTarget, dataDir: string): StorageSettings {
  return {
    target, dataDir,
    retention: { rawDays: null, minuteDays: null, hourDays: null, dayDays: null },
    ingest: { maxBatch: 5000, maxDelayMs: 50, maxPending: 100000 },
    spoolMaxRows: 1000, rollupIntervalMs: 60_000,
  };
}

function bar(table: string, done: number, total: number): void {
  if (!process.stderr.isTTY) return;
  const width = 30;
  const filled = total ? Math.round((done / total) * width) : width;
  process.stderr.write(`\r${table.padEnd(16)} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}   `);
}

/** `meterhub db migrate` and `meterhub db copy`. */
export function registerDb(program: Command): void {
  const db = program.command('db').description('database tools');
  db.command('migrate')
    .description("bring the configured database's schema up to date")
    .action(async (_o: unknown, cmd: Command) => {
      const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), {}, true);
      await host.prepare();
      const log = createLogger({ level: 'warn', fd: 2 });
      const storage = await StorageService.open(storageSettings({ storage: host.config.storage, dataDir: host.dataDir }), log);
      await storage.close();
      console.log(`${storage.engine} database is up to date`);
    });
  db.command('copy')
    .description('copy all meters, users, keys and history from one database to another, verifying row counts')
    .requiredOption('--from <url>', 'sqlite:./data/meterhub.db or postgres://user:pass@host/db')
    .requiredOption('--to <url>', 'sqlite:PATH or postgres://…')
    .action(async (opts: { from: string; to: string }, cmd: Command) => {
      const cwd = process.cwd();
      const source = readConfigFile(locateConfig(cmd.optsWithGlobals<GlobalOptions>().config, process.env, cwd), cwd);
      const dataDir = resolveDataDir(source.raw, source.baseDir);
      const log = createLogger({ level: 'warn', fd: 2 });
      const from = await StorageService.open(settingsFor(parseDatabaseUrl(opts.from, cwd), `${dataDir}/copy-from`), log);
      const to = await StorageService.open(settingsFor(parseDatabaseUrl(opts.to, cwd), `${dataDir}/copy-to`), log);
      try {
        const report = await copyDatabase(from, to, bar);
        if (process.stderr.isTTY) process.stderr.write('\n');
        console.log(`copied ${report.meters} meter(s), ${report.users} user(s), ${report.apiKeys} API key(s), ${report.tariffs} tariff(s)`);
        const mismatched = Object.entries(report.rows).filter(([, c]) => c.target < c.source);
        for (const [table, c] of Object.entries(report.rows)) console.log(`  ${table.padEnd(16)} ${c.source} -> ${c.target}`);
        if (mismatched.length) throw new MeterhubError('METERHUB_ERR_INTERNAL', `row counts do not match for ${mismatched.map(([t]) => t).join(', ')}`);
        console.log('row counts verified');
      } finally {
        await from.close();
        await to.close();
      }
    });
}
