/**
 * A load generator in its own process, so it does not share the host's event
 * loop: keep-alive connections, a fixed number of requests in flight, for a
 * fixed time. Prints JSON: {requests, seconds, rps, p50, p99, errors}.
 * usage: node --import tsx http-load.ts '<options JSON>'
 */
import { Agent, request } from 'node:http';

interface Options {
  url: string;
  method: 'GET' | 'POST';
  headers: Record<string, string>;
  seconds: number;
  concurrency: number;
  /** POST: readings per batch; each request gets its own timestamps. */
  batch?: { readings: number; measurements: string[]; startTs: number };
}

const o = JSON.parse(process.argv[2]!) as Options;
const agent = new Agent({ keepAlive: true, maxSockets: o.concurrency });
const url = new URL(o.url);
const latencies: number[] = [];
let errors = 0;
let sequence = 0;

function body(): string | undefined {
  if (!o.batch) return undefined;
  const base = o.batch.startTs + sequence++ * o.batch.readings * 1000;
  return JSON.stringify(Array.from({ length: o.batch.readings }, (_, i) => ({
    timestamp: base + i * 1000,
    values: Object.fromEntries(o.batch!.measurements.map((m, k) => [m, 230 + ((i + k) % 7)])),
  })));
}

function once(): Promise<void> {
  return new Promise((resolve) => {
    const payload = body();
    const t0 = performance.now();
    const req = request({ agent, host: url.hostname, port: url.port, path: url.pathname + url.search, method: o.method,
      headers: { ...o.headers, ...(payload ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) } : {}) } }, (res) => {
      res.resume();
      res.on('end', () => {
        if ((res.statusCode ?? 500) >= 300) errors++;
        latencies.push(performance.now() - t0);
        resolve();
      });
    });
    req.on('error', () => {
      errors++;
      resolve();
    });
    req.end(payload);
  });
}

const deadline = performance.now() + o.seconds * 1000;
const start = performance.now();
await Promise.all(Array.from({ length: o.concurrency }, async () => {
  while (performance.now() < deadline) await once();
}));
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
console.log(JSON.stringify({ requests: latencies.length, seconds, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors }));
agent.destroy();
