import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import pg from 'pg';
import type { TestDatabase } from '../../../test-support/postgres.js';
import { until } from './uplink-rig.js';

export const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));
const run = promisify(execFile);

export const exited = (child: ChildProcess) => new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r)));

/** Starts `meterhub start --config <file>` in `root`, with no environment but PATH. */
export function startProcess(root: string, file: string): ChildProcess {
  return spawn(process.execPath, [CLI, 'start', '--config', join(root, file)], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'], env: { PATH: process.env['PATH'] } });
}

/**
 * One central meterhub process on a fixed port (so it comes back where the
 * collector expects it), storing in the shared PostgreSQL database. It knows
 * the meter "house" as a pushed meter.
 */
export class CentralProcess {
  child: ChildProcess | undefined;
  readonly url: string;
  readonly file: string;

  constructor(private readonly root: string, readonly name: string, readonly port: number, db: TestDatabase) {
    this.url = `http://127.0.0.1:${port}`;
    this.file = `central-${name}.json`;
    writeFileSync(join(root, this.file), JSON.stringify({
      name: `central-${name}`, dataDir: `./data-${name}`, http: { port },
      storage: { client: 'postgres', connection: db.connection },
      meters: [{ id: 'house', driver: 'sdm230' }],
    }));
  }

  /** Starts the process and resolves once its /health/ answers 200 (database reachable). */
  async start(): Promise<void> {
    this.child = startProcess(this.root, this.file);
    await until(`central ${this.name} healthy`, async () => {
      if (this.child!.exitCode !== null) throw new Error(`central ${this.name} exited with ${this.child!.exitCode}`);
      return fetch(`${this.url}/health/`).then((r) => r.status === 200, () => false);
    }, 60000);
  }

  /** `meterhub key create` against this host's database: the key works on every host sharing it. */
  async createKey(scopes: string): Promise<string> {
    const { stdout } = await run(process.execPath, [CLI, 'key', 'create', 'collector', '--scopes', scopes, '--config', join(this.root, this.file)], { cwd: this.root, env: { PATH: process.env['PATH'] } });
    return /store it now\): (\S+)/.exec(stdout)![1]!;
  }

  async kill(signal: NodeJS.Signals): Promise<void> {
    if (!this.child || this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill(signal);
    await exited(this.child);
  }
}

/**
 * Every reading row of a meter in the shared database, read with plain SQL
 * through the `meterhub` views: `family@ts → n`, where n counts the rows with
 * that meter and time (1 unless a reading was doubled).
 */
export async function rowsInDatabase(db: TestDatabase, meter: string): Promise<Map<string, number>> {
  const client = new pg.Client(db.connection);
  await client.connect();
  try {
    const out = new Map<string, number>();
    for (const family of ['power', 'energy'] as const) {
      const { rows } = await client.query<{ ms: string; n: string }>(
        `SELECT round(extract(epoch FROM ts) * 1000)::bigint AS ms, count(*) AS n FROM meterhub.${family}_readings WHERE meter = $1 GROUP BY ts`, [meter]);
      for (const r of rows) out.set(`${family}@${r.ms}`, Number(r.n));
    }
    return out;
  } finally {
    await client.end();
  }
}
