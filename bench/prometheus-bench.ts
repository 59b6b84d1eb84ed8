/**
 * Prometheus benchmark: a scrape of /metrics for 100 meters x 86 measurements
 * (an SDM630's full set), over real HTTP from a host whose readings are in
 * memory, beside prom-client's own registry holding the same series in plain
 * Gauges and Counters, serialised and served by a bare node:http server in the
 * same process, fetched the same way. Rounds alternate between the two so both
 * see the same machine load.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import { METRIC_BY_MEASUREMENT } from '../plugins/prometheus/src/metric-names.js';
import { RestRig } from '../plugins/rest/test/rest-rig.js';
import { builtinDriver } from '../test-support/builtin-drivers.js';
import { report, type BenchContext } from './bench-report.js';

const METERS = 100;
const IDS = builtinDriver('sdm630').registers.map((r) => r.measurement.id);
const value = (meter: number, k: number) => meter * 1000 + k + 0.5;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** prom-client's registry with the same series, as an exporter that keeps them in prom-client metrics would. */
function baselineRegistry(): Registry {
  const registry = new Registry();
  const metrics = new Map<string, Gauge | Counter>();
  for (let i = 0; i < METERS; i++) {
    IDS.forEach((id, k) => {
      const m = METRIC_BY_MEASUREMENT.get(id)!;
      let metric = metrics.get(m.name);
      if (!metric) {
        const opts = { name: m.name, help: m.help, labelNames: ['meter', 'phase', 'tariff'], registers: [registry] };
        metric = m.type === 'counter' ? new Counter(opts) : new Gauge(opts);
        metrics.set(m.name, metric);
      }
      const labels = { meter: `m${i}`, ...(m.phase ? { phase: m.phase } : {}), ...(m.tariff ? { tariff: m.tariff } : {}) };
      if (metric instanceof Counter) metric.inc(labels, value(i, k) * m.factor);
      else metric.set(labels, value(i, k) * m.factor);
    });
  }
  return registry;
}

async function timeScrape(url: string): Promise<{ ms: number; cpuMs: number; bytes: number }> {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const res = await fetch(url);
  const body = await res.text();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  if (res.status !== 200) throw new Error(`${url}: ${res.status} ${body.slice(0, 200)}`);
  return { ms, cpuMs: (c.user + c.system) / 1000, bytes: body.length };
}

export async function prometheusBench(ctx: BenchContext): Promise<void> {
  const meters = Array.from({ length: METERS }, (_, i) => ({ id: `m${i}`, driver: 'sdm630', bus: 'sim', unitId: 3 + i, enabled: false }));
  const rig = await RestRig.start('sqlite', { meters, plugins: { prometheus: { config: { access: 'public', processMetrics: false } } } });
  let server: Server | undefined;
  try {
    const ts = Date.now();
    for (let i = 0; i < METERS; i++) rig.host.bus.publish({ meterId: `m${i}`, ts, values: Object.fromEntries(IDS.map((id, k) => [id, value(i, k)])) });
    await rig.waitFor('the readings in memory', () => meters.every((m) => rig.host.storage!.latest(m.id, 'energy')), 30000);
    await rig.host.storage!.refresh();

    const registry = baselineRegistry();
    server = createServer((_req, res) => {
      void registry.metrics().then((body) => {
        res.setHeader('content-type', registry.contentType);
        res.end(body);
      });
    });
    await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
    const bareUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/metrics`;
    const ourUrl = `${rig.base}/metrics`;

    const rounds = ctx.smoke ? 8 : 40;
    const ours: Array<{ ms: number; cpuMs: number; bytes: number }> = [];
    const bare: typeof ours = [];
    for (let i = 0; i < 3; i++) await Promise.all([timeScrape(ourUrl), timeScrape(bareUrl)]); // warm-up
    for (let i = 0; i < rounds; i++) {
      ours.push(await timeScrape(ourUrl));
      bare.push(await timeScrape(bareUrl));
    }
    const series = METERS * IDS.length;
    const oursMs = median(ours.map((s) => s.ms));
    const bareMs = median(bare.map((s) => s.ms));
    report(ctx, `scrape of ${METERS} meters x ${IDS.length} measurements (${series} series, ${Math.round(ours[0]!.bytes / 1024)} KiB), median of ${rounds}`,
      `${oursMs.toFixed(1)} ms (cpu ${median(ours.map((s) => s.cpuMs)).toFixed(1)} ms)`,
      `prom-client registry of the same series on bare node:http ${bareMs.toFixed(1)} ms (cpu ${median(bare.map((s) => s.cpuMs)).toFixed(1)} ms)`,
      `${(oursMs / bareMs).toFixed(2)}x (target <= 2x)`, oursMs / bareMs <= 2);
  } finally {
    await new Promise((r) => (server ? server.close(r) : r(undefined)));
    await rig.stop();
  }
}
