/**
 * The processes of the scale benchmark: central hosts (the real `meterhub
 * start`, REST ingest into one PostgreSQL, Socket.IO fanned out over Redis)
 * and simulated collectors (bench/scale-collector.ts), each its own process so
 * its CPU time can be read per tier.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { freePort } from '../plugins/modbus-server/test/server-rig.js';
import type { CollectorOptions, CollectorReport } from './scale-collector.js';

const CLI = fileURLToPath(new URL('../packages/meterhub/bin/meterhub.js', import.meta.url));
const COLLECTOR = fileURLToPath(new URL('./scale-collector.ts', import.meta.url));
const run = promisify(execFile);

export interface Central {
  url: string;
  child: ChildProcess;
}

/** A central host's configuration: REST and Socket.IO only, PostgreSQL storage, Redis fan-out. */
function centralConfig(root: string, index: number, port: number, connection: object): string {
  const file = join(root, `central-${index}.json`);
  mkdirSync(join(root, `central-${index}`), { recursive: true });
  writeFileSync(file, JSON.stringify({
    dataDir: join(root, `central-${index}`), http: { port }, log: { level: 'error' },
    storage: { client: 'postgres', connection },
    redis: { url: 'redis://127.0.0.1:6379/0' },
    discovery: { deny: ['@meterhub/plugin-dashboard', '@meterhub/plugin-export', '@meterhub/plugin-mqtt', '@meterhub/plugin-prometheus', '@meterhub/plugin-modbus-server', '@meterhub/plugin-uplink'] },
    // Its own channel prefix: other runs on this Redis stay apart.
    plugins: { socketio: { config: { redisKey: `meterhub-scale-${process.pid}` } } },
  }));
  return file;
}

/** Makes the collectors' key (ingest, and meters:write so they create their meters) with `meterhub key create`. */
export async function createKey(root: string, connection: object): Promise<string> {
  const config = centralConfig(root, 0, 0, connection);
  const { stdout } = await run(process.execPath, [CLI, 'key', 'create', 'scale collectors', '--scopes', 'ingest,meters:write', '--config', config]);
  const key = /key \(shown once, store it now\): (\S+)/.exec(stdout)?.[1];
  if (!key) throw new Error(`no key in: ${stdout}`);
  return key;
}

export async function startCentral(root: string, index: number, connection: object): Promise<Central> {
  const port = await freePort();
  const config = centralConfig(root, index, port, connection);
  // Its log (errors only) goes to a file the bench reads back at the end.
  const logFd = openSync(join(root, `central-${index}.log`), 'w');
  const child = spawn(process.execPath, [CLI, 'start', '--config', config], { cwd: root, stdio: ['ignore', logFd, 'inherit'] });
  closeSync(logFd);
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`central host ${index} exited with ${child.exitCode}`);
    if (await fetch(`${url}/health/`).then((r) => r.status < 500, () => false)) return { url, child };
    if (Date.now() > deadline) throw new Error(`central host ${index} did not answer /health/ within 60 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Creates pushed SDM630 meters over the REST API, a few requests at a time,
 * as an installer (or a collector's first contact) would; resolves once all exist.
 */
export async function createMeters(url: string, key: string, ids: readonly string[]): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < ids.length) {
      const id = ids[next++]!;
      const res = await fetch(`${url}/api/meters/`, {
        method: 'POST', headers: { 'content-type': 'application/json', authorization: `Api-Key ${key}` }, body: JSON.stringify({ id, source: 'push', driver: 'sdm630' }),
      });
      if (res.status !== 201 && res.status !== 409) throw new Error(`creating meter ${id}: ${res.status} ${await res.text()}`);
    }
  };
  await Promise.all(Array.from({ length: 4 }, worker));
}

/** Error lines the central hosts logged, for the report. */
export function centralErrors(root: string): string[] {
  return [0, 1].flatMap((i) => readFileSync(join(root, `central-${i}.log`), 'utf8').split('\n').filter(Boolean));
}

export interface Collector {
  /** The process's id: its meters are `<id>-s<site>-m<k>`. */
  id: string;
  child: ChildProcess;
  /** Seconds of readings reported (one report a second) and values confirmed, since `reset`. */
  seconds: number;
  values: number;
  queued: number;
  /** Settles with the first report: from then on the process takes messages. */
  ready: Promise<void>;
}

/** Starts one process of simulated collector sites (none until told how many); `onReport` sees each of its reports. */
export function startCollector(root: string, opts: Omit<CollectorOptions, 'dir'>, onReport: (c: Collector, r: CollectorReport) => void): Collector {
  const dir = join(root, 'collectors', opts.id);
  mkdirSync(dir, { recursive: true });
  const child = spawn(process.execPath, ['--import', 'tsx', COLLECTOR, JSON.stringify({ ...opts, dir })], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  let started = () => undefined as void;
  const c: Collector = { id: opts.id, child, seconds: 0, values: 0, queued: 0, ready: new Promise<void>((r) => (started = r)) };
  child.on('message', (r: CollectorReport) => {
    started();
    onReport(c, r);
  });
  return c;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone. */
export async function stop(child: ChildProcess, graceMs = 5000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await gone;
  clearTimeout(timer);
}
