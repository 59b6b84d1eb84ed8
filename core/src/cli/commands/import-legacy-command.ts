import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import type { Command } from 'commander';
import { MeterhubError } from '@meterhub/sdk';
import { readConfigFile } from '../../config/config-file.js';
import { convertLegacySetting, isLegacySetting, type LegacySetting } from '../../config/legacy-setting.js';
import { hostFromCli, type GlobalOptions } from './run-host.js';

/** `meterhub import-legacy setting.json`: writes the meterhub.json equivalent of the old logger's settings. */
export function registerImportLegacy(program: Command): void {
  program
    .command('import-legacy')
    .argument('<setting.json>', "the old logger's setting.json")
    .description("convert the old logger's setting.json into meterhub.json")
    .option('-o, --out <file>', 'where to write', 'meterhub.json')
    .option('--transport <kind>', 'what the gateway at Device_IP speaks: modbus-tcp or rtu-over-tcp', 'modbus-tcp')
    .option('--force', 'overwrite an existing output file')
    .option('--uplink <url>', 'forward readings to this central meterhub (edge collector), like the old logger submitted to the API')
    .option('--key <key>', 'with --uplink: an API key with the "ingest" scope made on the central host')
    .option('--ca-file <pem>', 'with --uplink: a private CA to trust for the central host')
    .action(async (file: string, opts: { out: string; transport: string; force?: boolean; uplink?: string; key?: string; caFile?: string }, cmd: Command) => {
      if (opts.uplink && !/^https?:\/\//.test(opts.uplink)) throw new MeterhubError('METERHUB_ERR_LEGACY_SETTING', `--uplink must be an http(s) URL, not "${opts.uplink}"`);
      if (opts.uplink && !opts.key) throw new MeterhubError('METERHUB_ERR_LEGACY_SETTING', '--uplink needs --key: an API key with the "ingest" scope (`meterhub key create collector --scopes ingest` on the central host)');
      if (opts.transport !== 'modbus-tcp' && opts.transport !== 'rtu-over-tcp') {
        throw new MeterhubError('METERHUB_ERR_LEGACY_SETTING', `--transport must be modbus-tcp or rtu-over-tcp, not "${opts.transport}"`);
      }
      const source = readConfigFile(resolve(file), process.cwd());
      if (!isLegacySetting(source.raw)) {
        throw new MeterhubError('METERHUB_ERR_LEGACY_SETTING', `${file} does not look like the old setting.json (no meterlist, Logger_ID or Device_IP)`);
      }
      const out = resolve(opts.out);
      if (existsSync(out) && !opts.force) {
        throw new MeterhubError('METERHUB_ERR_LEGACY_SETTING', `${opts.out} exists; pass --force to overwrite it`);
      }
      // Drivers come from a host on defaults: the conversion needs their legacy names only.
      const host = hostFromCli({ ...cmd.optsWithGlobals<GlobalOptions>(), config: undefined }, { config: {} }, true);
      await host.prepare();
      const { config: converted, skipped } = convertLegacySetting(source.raw as LegacySetting, host.drivers.list(), { transport: opts.transport, file: basename(file) });
      for (const s of skipped) console.error(`  ${s.path}  ${s.message}${s.hint ? `  (${s.hint})` : ''}`);
      if (opts.uplink) {
        converted['plugins'] = { ...(converted['plugins'] as Record<string, unknown> | undefined), uplink: { config: { url: opts.uplink, key: opts.key, ...(opts.caFile ? { caFile: resolve(opts.caFile) } : {}) } } };
      }
      await writeFile(out, `${JSON.stringify({ $schema: './meterhub.schema.json', ...converted }, null, 2)}\n`);
      const meters = (converted['meters'] as unknown[]).length;
      console.log(`wrote ${opts.out}: ${meters} meter(s) on bus "gateway" (${opts.transport})${opts.uplink ? `, forwarding to ${new URL(opts.uplink).origin}` : ''}; check it with \`meterhub validate --config ${opts.out}\``);
    });
}
