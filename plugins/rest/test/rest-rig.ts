import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MeterSimulator, SimulatorTcpEndpoint } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { Host } from '../../../core/src/host.js';
import { pino } from 'pino';
import { OpenApiResponseCheck } from './openapi-response-check.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';

export const ADMIN = { username: 'ada', password: 'correct-horse-battery' };
export const VIEWER = { username: 'vic', password: 'viewer-password-1' };

/**
 * A host with the REST plugin on real HTTP, a real database (SQLite file or a
 * fresh PostgreSQL database) and a simulator serving an SDM630 (unit 1) and an
 * SDM230 (unit 2); the config declares the SDM630 as meter "house".
 */
export class RestRig {
  host!: Host;
  sim = new MeterSimulator();
  endpoint!: SimulatorTcpEndpoint;
  base = '';
  /** Every log line the host wrote (debug and up), parsed: tests assert that client input never logs at error level. */
  readonly logs: Array<{ level: number; msg?: string; [k: string]: unknown }> = [];
  /** Checks every answer `request` gets against the published OpenAPI document. */
  openApi: OpenApiResponseCheck | undefined;
  #db: TestDatabase | undefined;
  #cleanup: (() => void) | undefined;

  /** The folder the host runs in (its cwd; `meterhub.json` is there when the rig was started with `configFile`). */
  root = '';
  #boot: (() => Promise<void>) | undefined;

  /**
   * `configFile`: the config is written to `<root>/meterhub.json` and read from
   * there (as `meterhub` CLI commands run in `root` read it), not passed as an object.
   */
  static async start(engine: 'sqlite' | 'postgres' = 'sqlite', extra: Record<string, unknown> = {}, env: NodeJS.ProcessEnv = {}, opts: { configFile?: boolean } = {}): Promise<RestRig> {
    const rig = new RestRig();
    rig.sim.addUnit(1, builtinDriver('sdm630')).pin('voltageL1', 231.25);
    rig.sim.addUnit(2, builtinDriver('sdm230')).pin('power', 640.5);
    rig.endpoint = new SimulatorTcpEndpoint(rig.sim, { framing: 'mbap' });
    const port = await rig.endpoint.listen();
    const dir = tempDataDir();
    rig.#cleanup = dir.cleanup;
    rig.root = dir.root;
    let storage: Record<string, unknown> = {};
    if (engine === 'postgres') {
      rig.#db = await createTestDatabase('rest');
      storage = { client: 'postgres', connection: rig.#db.connection };
    }
    const config = {
      dataDir: dir.dataDir,
      http: { port: 0 },
      storage,
      buses: [{ id: 'sim', transport: 'modbus-tcp', host: '127.0.0.1', port, interRequestDelayMs: 2, unitSwitchDelayMs: 0, responseTimeoutMs: 200 }],
      meters: [{ id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1, intervals: { instantMs: 200, counterMs: 200 } }],
      ...extra,
    };
    const configPath = join(dir.root, 'meterhub.json');
    if (opts.configFile) writeFileSync(configPath, JSON.stringify(config, null, 2));
    rig.#boot = async () => {
      rig.host = new Host({
        ...(opts.configFile ? { configPath } : { config }),
        cwd: dir.root,
        env,
        logger: pino({ level: 'debug' }, { write: (line: string) => void rig.logs.push(JSON.parse(line) as RestRig['logs'][number]) }),
      });
      await rig.host.start();
      rig.base = `http://127.0.0.1:${rig.host.http.port}${rig.host.http.basePath}`;
      rig.openApi = new OpenApiResponseCheck(await (await fetch(`${rig.base}/api/schema/`)).json() as ConstructorParameters<typeof OpenApiResponseCheck>[0]);
    };
    await rig.#boot();
    await rig.host.accounts!.users.create(ADMIN.username, ADMIN.password, 'admin');
    await rig.host.accounts!.users.create(VIEWER.username, VIEWER.password, 'viewer');
    return rig;
  }

  /** Stops the host, runs `whileStopped` (e.g. a CLI command on the same database), and starts a new host on the same config and database. */
  async restart(whileStopped: () => Promise<void> = async () => undefined): Promise<void> {
    await this.host.stop();
    await whileStopped();
    await this.#boot!();
  }

  /** Log lines at error level or above (pino: 50 error, 60 fatal) written since `since` lines. */
  errorLogs(since = 0): RestRig['logs'] {
    return this.logs.slice(since).filter((l) => l.level >= 50);
  }

  /** The signing key the plugin generated (SECRET_KEY is not set in tests unless given). */
  signingKey(): string {
    return readFileSync(join(this.host.dataDir, 'plugins', 'rest', 'secret-key'), 'utf8').trim();
  }

  async request(method: string, path: string, opts: { token?: string; key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...opts.headers };
    if (opts.token) headers['authorization'] = `Bearer ${opts.token}`;
    if (opts.key) headers['x-api-key'] = opts.key;
    if (opts.body !== undefined || opts.raw !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${this.base}${path}`, { method, headers, ...(opts.raw !== undefined ? { body: opts.raw } : opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
    const text = await res.text();
    let json: any;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = text;
    }
    this.openApi?.check(method, path, res.status, res.headers.get('content-type'), json);
    return { status: res.status, body: json, headers: res.headers };
  }

  async login(user = ADMIN): Promise<{ access: string; refresh: string }> {
    const r = await this.request('POST', '/api/token/', { body: user });
    if (r.status !== 200) throw new Error(`login failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { access: string; refresh: string };
  }

  async waitFor(what: string, predicate: () => Promise<boolean> | boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await predicate())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  async stop(): Promise<void> {
    await this.host.stop();
    await this.endpoint.close();
    await this.#db?.drop();
    this.#cleanup?.();
  }
}
