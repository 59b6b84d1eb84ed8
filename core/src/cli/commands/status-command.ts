import type { Command } from 'commander';
import { readConfigFile, resolveDataDir, locateConfig } from '../../config/config-file.js';
import { controlSocketPath, queryControlSocket } from '../../http/control-socket.js';
import type { HostStatus } from '../../host.js';
import type { GlobalOptions } from './run-host.js';

const ago = (iso: string | null): string => (iso ? `${Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000))} s ago` : 'never');

/** Renders the status of a running host for a terminal. */
export function formatStatus(s: HostStatus): string {
  const lines = [`${s.name} ${s.version} (host API ${s.hostApi}), up ${s.uptimeSeconds} s, HTTP port ${s.http.port}`, '', 'buses:'];
  for (const b of s.acquisition.buses) {
    const lat = b.latencyMs;
    const errors = b.errors ? Object.entries(b.errors).filter(([, n]) => n > 0).map(([k, n]) => `${k} ${n}`).join(', ') || 'none' : '-';
    lines.push(`  ${b.id.padEnd(12)} ${b.state === 'running' ? (b.connected ? 'connected' : 'disconnected') : b.state}  ${b.description ?? b.transport}`);
    if (b.state !== 'running') lines.push(`    ${b.message}`);
    else lines.push(`    requests ${b.requests}, errors: ${errors}, latency p50/p95/p99 ${lat?.p50 ?? '-'}/${lat?.p95 ?? '-'}/${lat?.p99 ?? '-'} ms${b.lastError ? `, last error: ${b.lastError.message}` : ''}`);
  }
  lines.push('', 'meters:');
  for (const m of s.acquisition.meters) {
    lines.push(`  ${m.id.padEnd(16)} ${m.state.padEnd(8)} ${m.driver} unit ${m.unitId} on ${m.bus}, last success ${ago(m.lastSuccess)}, ` +
      `${m.requestsPerFullCycle} request(s)/cycle, overruns ${m.overruns}, invalid values ${m.invalidValues}`);
    if (m.lastError && m.state !== 'online') lines.push(`    last error: ${m.lastError.message}`);
    if (m.unsupported.length) lines.push(`    not served by the meter: ${m.unsupported.join(', ')}`);
  }
  const polled = new Set(s.acquisition.meters.map((m) => m.id));
  for (const m of s.meterStates ?? []) {
    if (!polled.has(m.meterId)) lines.push(`  ${m.meterId.padEnd(16)} ${m.state.padEnd(8)} pushed, last reading ${ago(m.lastSeen ?? null)}`);
  }
  if (s.readings) lines.push('', `readings: ${s.readings.taken} taken since start, ${s.readings.replays} of them replays`);
  if (s.eventLoop) {
    const l = s.eventLoop;
    lines.push(`event loop delay: p50 ${l.p50Ms} ms, p99 ${l.p99Ms} ms, max ${l.maxMs} ms (last ${l.windowSeconds} s); worst since start ${l.worstMs} ms${l.worstAt ? ` at ${l.worstAt}` : ''}`);
  }
  lines.push('', 'plugins:');
  for (const p of s.plugins) lines.push(`  ${p.id.padEnd(16)} ${p.state}${p.error ? `  ${p.error.code}: ${p.error.message}` : ''}`);
  return lines.join('\n');
}

/** `meterhub status`: asks the running host (found through the config's data dir) for its status. */
export function registerStatus(program: Command): void {
  program
    .command('status')
    .description('show buses, meters and plugins of the running host')
    .option('--json', 'machine-readable output')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      const cwd = process.cwd();
      const source = readConfigFile(locateConfig(cmd.optsWithGlobals<GlobalOptions>().config, process.env, cwd), cwd);
      const status = (await queryControlSocket(controlSocketPath(resolveDataDir(source.raw, source.baseDir)), '/status')) as HostStatus;
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });
}
