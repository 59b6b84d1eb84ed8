/**
 * Live stream benchmark: N socket.io-client connections (spread over several
 * generator processes) following 8 meters that each publish one reading per
 * second, spread over the second. Delivery latency (publish to receipt), host
 * CPU and RSS per client, beside a bare Socket.IO server (no auth, no rooms,
 * `io.emit`) driven by the same generators and schedule in the same run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Server } from 'socket.io';
import { Host } from '../core/src/host.js';
import { createLogger } from '../core/src/logging/logger.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { report, type BenchContext } from './bench-report.js';

const LOAD = fileURLToPath(new URL('./live-load.ts', import.meta.url));
const METERS = 8;
const VALUES = ['voltageL1', 'voltageL2', 'voltageL3', 'currentL1', 'currentL2', 'currentL3', 'power', 'powerL1', 'powerL2', 'powerL3', 'frequency', 'powerFactor'];

interface Side {
  name: string;
  url: string;
  auth?: Record<string, string>;
  subscribe?: Record<string, unknown>;
  publish(meter: string, ts: number): void;
}

interface Outcome { p50: number; p99: number; received: number; expected: number; cpuPercent: number; rssPerClientKb: number; errors: number }

const gc = (): void => (globalThis as { gc?: () => void }).gc?.();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: readonly number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]! : NaN;
}

function values(i: number): Record<string, number> {
  return Object.fromEntries(VALUES.map((m, k) => [m, 230 + ((i + k) % 17) / 10]));
}

async function drive(side: Side, clients: number, processes: number, seconds: number): Promise<Outcome> {
  gc();
  await sleep(200);
  const rssBefore = process.memoryUsage().rss;
  const children: ChildProcess[] = [];
  const ready = await Promise.all(Array.from({ length: processes }, (_, i) => new Promise<{ errors: number }>((resolve, reject) => {
    const share = Math.floor(clients / processes) + (i < clients % processes ? 1 : 0);
    const child = fork(LOAD, [JSON.stringify({ url: side.url, clients: share, auth: side.auth, subscribe: side.subscribe })], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    children.push(child);
    child.once('message', (m) => resolve(m as { errors: number }));
    child.once('exit', (code) => reject(new Error(`load generator exited with ${code}`)));
  })));
  const connectErrors = ready.reduce((n, r) => n + r.errors, 0);
  gc();
  await sleep(500);
  const rssConnected = process.memoryUsage().rss;

  // One reading per meter per second, the meters' readings spread evenly over the second.
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let published = 0;
  for (let tick = 0; tick < seconds * METERS; tick++) {
    const due = t0 + (tick * 1000) / METERS;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    side.publish(`m${(tick % METERS) + 1}`, Date.now());
    published++;
  }
  await sleep(300);
  const cpu = process.cpuUsage(cpu0);
  const wall = performance.now() - t0;

  const reports = await Promise.all(children.map((child) => new Promise<{ latencies: number[]; errors: number; connected: number }>((resolve) => {
    child.once('message', (m) => resolve(m as { latencies: number[]; errors: number; connected: number }));
    child.send('report');
  })));
  for (const child of children) {
    child.removeAllListeners('exit');
    child.send('close');
  }
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  const latencies = reports.flatMap((r) => r.latencies).sort((a, b) => a - b);
  const connected = reports.reduce((n, r) => n + r.connected, 0);
  return {
    p50: percentile(latencies, 0.5),
    p99: percentile(latencies, 0.99),
    received: latencies.length,
    expected: published * connected,
    cpuPercent: ((cpu.user + cpu.system) / 1000 / wall) * 100,
    rssPerClientKb: (rssConnected - rssBefore) / 1024 / clients,
    errors: connectErrors + (clients - connected),
  };
}

async function meterhubSide(): Promise<{ side: Side; close(): Promise<void> }> {
  const dir = tempDataDir();
  const host = new Host({
    config: { dataDir: dir.dataDir, http: { port: 0 }, plugins: { rest: { config: { login: { maxPerMinute: 1000 } } } } },
    cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
  });
  await host.start();
  await host.accounts!.users.create('bench', 'bench-password-1', 'viewer');
  const base = `http://127.0.0.1:${host.http.port}`;
  const res = await fetch(`${base}/api/token/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bench', password: 'bench-password-1' }) });
  const { access } = (await res.json()) as { access: string };
  let i = 0;
  return {
    side: {
      name: 'meterhub', url: `${base}/meters`, auth: { token: access }, subscribe: { meters: '*' },
      publish: (meter, ts) => host.bus.publish({ meterId: meter, ts, values: values(i++) }),
    },
    close: async () => {
      await host.stop();
      dir.cleanup();
    },
  };
}

async function bareSide(): Promise<{ side: Side; close(): Promise<void> }> {
  const http = createServer();
  const io = new Server(http, { serveClient: false });
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  let i = 0;
  return {
    side: {
      name: 'bare', url: `http://127.0.0.1:${(http.address() as AddressInfo).port}/`,
      publish: (meter, ts) => io.emit('reading', { type: 'reading', v: 1, meterId: meter, ts, values: values(i++) }),
    },
    close: async () => {
      io.close();
      await new Promise((r) => http.close(r));
    },
  };
}

export async function liveBench(ctx: BenchContext): Promise<void> {
  const clients = ctx.smoke ? 200 : 1000;
  const processes = ctx.smoke ? 2 : 4;
  const seconds = ctx.smoke ? 3 : 10;
  const ours = await meterhubSide();
  const base = await bareSide();
  try {
    // A short warm-up of each side (JIT), then the measured runs.
    await drive(ours.side, 20, 1, 1);
    await drive(base.side, 20, 1, 1);
    const o = await drive(ours.side, clients, processes, seconds);
    const b = await drive(base.side, clients, processes, seconds);
    const lost = o.expected - o.received;
    report(ctx, `live: ${clients} Socket.IO clients, ${METERS} meters at 1 reading/s`,
      `p50 ${o.p50} ms, p99 ${o.p99} ms, ${o.received.toLocaleString('en')}/${o.expected.toLocaleString('en')} delivered, host CPU ${o.cpuPercent.toFixed(0)}%`,
      `bare Socket.IO p50 ${b.p50} ms, p99 ${b.p99} ms, CPU ${b.cpuPercent.toFixed(0)}%`,
      `p99 ${(o.p99 / Math.max(b.p99, 1)).toFixed(2)}x the bare server's (target: p99 < 100 ms and <= 1.5x, counting a bare p99 under 1 ms as 1 ms)`,
      o.p99 < 100 && o.p99 <= 1.5 * Math.max(b.p99, 1) && o.errors === 0 && lost === 0);
    report(ctx, 'live: host memory per connected client', `${o.rssPerClientKb.toFixed(1)} KB RSS per client`,
      `bare Socket.IO ${b.rssPerClientKb.toFixed(1)} KB`, 'target < 100 KB per client', o.rssPerClientKb < 100);
  } finally {
    await ours.close();
    await base.close();
  }
}
