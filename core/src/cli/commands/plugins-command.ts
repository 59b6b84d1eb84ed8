import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { MeterhubError } from '@meterhub/sdk';
import { locateConfig, readConfigFile, resolveDataDir } from '../../config/config-file.js';
import { exitCodeFor, formatError } from '../report-error.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

const run = promisify(execFile);

/**
 * `meterhub plugins install|list`. Installed packages live in
 * `<dataDir>/node_modules`, where the host finds them by keyword
 * (`meterhub-plugin`, `meterhub-driver`) at its next start.
 */
export function registerPlugins(program: Command): void {
  const plugins = program.command('plugins').description('install and list plugin and driver packages');

  plugins.command('install <packages...>')
    .description('npm install into the data dir (names, tarballs or folders); the host loads them at its next start')
    .action(async (specs: string[], _opts: unknown, cmd: Command) => {
      // The config may name a driver or plugin that this very install brings: read
      // only where the data dir is, without validating the rest yet.
      const cwd = process.cwd();
      const source = readConfigFile(locateConfig(cmd.optsWithGlobals<GlobalOptions>().config, process.env, cwd), cwd);
      const dir = resolveDataDir(source.raw, source.baseDir);
      mkdirSync(dir, { recursive: true });
      // A private manifest keeps npm from walking up to an enclosing project.
      if (!existsSync(join(dir, 'package.json'))) writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'meterhub-data', private: true }, null, 2)}\n`);
      const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
      try {
        const { stderr } = await run(npm, ['install', '--prefix', dir, '--no-audit', '--no-fund', '--save', ...specs], { maxBuffer: 1 << 24 });
        if (stderr.trim()) process.stderr.write(stderr);
      } catch (err) {
        throw new MeterhubError('METERHUB_ERR_PLUGIN_NOT_FOUND', `npm install failed: ${((err as { stderr?: string }).stderr ?? String(err)).trim().split('\n').slice(-3).join(' ')}`);
      }
      const after = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), {}, true);
      try {
        await after.prepare();
      } catch (err) {
        // Installed, but the configuration still has problems the packages did not solve.
        console.error(formatError(err));
        console.log(`installed into ${join(dir, 'node_modules')}; fix the configuration above, then restart the host`);
        process.exitCode = exitCodeFor(err);
        return;
      }
      const status = after.status();
      for (const p of status.discoveryProblems) console.error(`not loadable: ${p.source}: ${p.code} ${p.message}`);
      console.log(`installed into ${join(dir, 'node_modules')}; restart the host to load them`);
      if (status.discoveryProblems.length) process.exitCode = 1;
    });

  plugins.command('list')
    .description('every plugin and driver with version, origin (builtin, npm, local) and status')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const host = hostFromCli(cmd.optsWithGlobals<GlobalOptions>(), {}, true);
      await host.prepare();
      const status = host.status();
      const rows = [
        ...status.plugins.map((p) => ({ kind: 'plugin', id: p.id, package: p.package, version: p.version, origin: p.origin, status: p.state === 'loaded' ? 'ok' : p.state, problem: p.error?.message ?? '' })),
        ...host.drivers.entries().map((e) => ({ kind: 'driver', id: e.driver.id, package: e.packageName, version: e.packageVersion, origin: e.origin, status: 'ok', problem: '' })),
        ...status.discoveryProblems.map((p) => ({ kind: '?', id: '-', package: p.source, version: '-', origin: '-', status: 'refused', problem: `${p.code}: ${p.message}` })),
        ...status.driverProblems.map((p) => ({ kind: 'driver', id: '-', package: p.file, version: '-', origin: '-', status: 'refused', problem: `${p.code}` })),
      ];
      if (opts.json) {
        console.log(JSON.stringify(rows, null, 2));
        return;
      }
      const head = ['kind', 'id', 'package', 'version', 'origin', 'status'];
      const cells = [head, ...rows.map((r) => [r.kind, r.id, r.package, r.version, r.origin, r.problem ? `${r.status}: ${r.problem}` : r.status])];
      const widths = head.map((_, c) => Math.max(...cells.map((r) => r[c]!.length)));
      console.log(cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n'));
    });
}
