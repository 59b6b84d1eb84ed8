import { execFileSync } from 'node:child_process';
import { createServer as createHttpServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { MeterSimulator, SimulatorTcpEndpoint } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { Host } from '../../../core/src/host.js';
import { createLogger } from '../../../core/src/logging/logger.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';

/** `old`: a central host of a version without the bulk endpoint (`POST /api/readings/` answers 404), else passed on. */
export type ProxyMode = 'pass' | 'down' | 'flaky' | 'slow' | 'old';

/**
 * Stands between collector and central: forwards requests (`pass`), refuses
 * them (`down`: the connection is destroyed), or fails some (`flaky`: every
 * third request gets a 500, every fifth is forwarded but answered too late),
 * or plays an older central host (`old`). Over TLS when given a key and certificate.
 */
export class FaultyProxy {
  mode: ProxyMode = 'pass';
  requests = 0;
  /** Requests seen, by method and path (meter ids as `{id}`). */
  readonly paths = new Map<string, number>();
  /** Requests forwarded whose answer has not been sent yet. */
  inFlight = 0;
  readonly server: Server;

  constructor(private readonly target: number, tls?: { key: string; cert: string }) {
    const handler = (req: IncomingMessage, res: ServerResponse) => this.#handle(req, res);
    this.server = tls ? createHttpsServer(tls, handler) : createHttpServer(handler);
  }

  async listen(): Promise<number> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    return (this.server.address() as AddressInfo).port;
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const n = ++this.requests;
    const path = `${req.method} ${(req.url ?? '').replace(/^\/api\/meters\/[^/]+\/(power|energy)\//, '/api/meters/{id}/$1/')}`;
    this.paths.set(path, (this.paths.get(path) ?? 0) + 1);
    if (this.mode === 'old' && req.method === 'POST' && req.url === '/api/readings/') {
      req.resume().on('end', () => {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"code":"METERHUB_ERR_HTTP_NOT_FOUND","message":"No such resource"}}');
      });
      return;
    }
    if (this.mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (this.mode === 'flaky' && n % 3 === 0) {
      res.statusCode = 500;
      res.end('{"error":{"code":"METERHUB_ERR_INTERNAL","message":"Internal error"}}');
      return;
    }
    const late = this.mode === 'flaky' && n % 5 === 0;
    const slow = this.mode === 'slow';
    this.inFlight++;
    const fwd = request({ host: '127.0.0.1', port: this.target, path: req.url, method: req.method, headers: req.headers }, (up) => {
      const answer = () => {
        this.inFlight--;
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      };
      // The central host stored the batch, but the answer comes after the collector gave up: it must send again.
      if (late) setTimeout(answer, 1500);
      else if (slow) setTimeout(answer, 300);
      else answer();
    });
    fwd.on('error', () => res.destroy());
    req.pipe(fwd);
  }

  close(): void {
    this.server.closeAllConnections?.();
    this.server.close();
  }
}

/** A private CA and a certificate for 127.0.0.1 signed by it, made with openssl for this test run. */
export function makeCertificates(dir: string): { caFile: string; key: string; cert: string } {
  mkdirSync(dir, { recursive: true });
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=meterhub test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  ssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  return { caFile: p('ca.pem'), key: readFileSync(p('server.key'), 'utf8'), cert: readFileSync(p('server.pem'), 'utf8') };
}

const silent = () => createLogger({ level: 'silent', pretty: false });

/** The central host: REST API, meter "house" known (not polled here), an ingest key; SQLite unless `storage` says otherwise, `http` adds HTTP settings. */
export async function startCentral(storage: Record<string, unknown> = {}, http: Record<string, unknown> = {}): Promise<{ host: Host; key: string; cleanup(): Promise<void> }> {
  const dir = tempDataDir();
  const host = new Host({
    config: {
      dataDir: dir.dataDir, http: { port: 0, ...http }, storage,
      // One bus per collector: meters there are never polled here, and unit ids stay apart.
      buses: [{ id: 'edge', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }, { id: 'shed', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
      meters: [{ id: 'house', driver: 'sdm230', bus: 'edge', unitId: 1, enabled: false }],
    },
    cwd: dir.root, env: {}, logger: silent(),
  });
  await host.start();
  const { key } = await host.accounts!.keys.create('edge collector', ['ingest'], null);
  return { host, key, cleanup: async () => {
    await host.stop();
    dir.cleanup();
  } };
}

/** The simulated SDM230 the collector polls. */
export async function startMeter(): Promise<{ sim: MeterSimulator; port: number; close(): Promise<void> }> {
  const sim = new MeterSimulator();
  sim.addUnit(1, builtinDriver('sdm230'));
  const endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
  const port = await endpoint.listen();
  return { sim, port, close: () => endpoint.close() };
}

/** The collector's configuration: polls the simulator every 200 ms, forwards through the uplink. */
export function collectorConfig(dataDir: string, meterPort: number, uplink: Record<string, unknown>): Record<string, unknown> {
  return {
    dataDir, http: { port: 0 },
    buses: [{ id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port: meterPort, interRequestDelayMs: 2, unitSwitchDelayMs: 0, responseTimeoutMs: 200 }],
    meters: [{ id: 'house', driver: 'sdm230', bus: 'rs485', unitId: 1, intervals: { instantMs: 200, counterMs: 200 } }],
    // Monitoring on the LAN reads the uplink's backlog from /health/ without credentials.
    plugins: { rest: { config: { health: { publicDetails: true } } }, uplink: { required: true, config: { batch: { maxReadings: 50, maxDelayMs: 100 }, backoff: { initialMs: 50, maxMs: 400 }, timeoutMs: 800, ...uplink } } },
  };
}

export function startCollector(config: Record<string, unknown>, root: string): Promise<Host> {
  const host = new Host({ config, cwd: root, env: {}, logger: silent() });
  return host.start().then(() => host);
}

/** Every stored reading of a meter as `family@ts → values JSON`, for set comparisons. */
export async function storedReadings(host: Pick<Host, 'storage'>, meterId = 'house'): Promise<Map<string, string>> {
  await host.storage!.refresh();
  const out = new Map<string, string>();
  for (const family of ['power', 'energy'] as const) {
    const { points, truncated } = await host.storage!.history(meterId, { family, from: 0, to: Date.now() + 60_000, resolution: 'raw' });
    if (truncated) throw new Error('more rows than one history query returns');
    for (const p of points) out.set(`${family}@${p.ts}`, JSON.stringify(Object.entries(p.values).sort()));
  }
  return out;
}

export async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
