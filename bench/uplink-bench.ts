/**
 * Uplink benchmark: a collector process replays a backlog of readings (8
 * values each) from its outbox to a central host on loopback. Its drain rate
 * and peak RSS, beside the central host's own batch-ingest rate over HTTP
 * (same batch size, one request at a time, as the collector sends), measured
 * in the same run.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { Outbox } from '../plugins/uplink/src/outbox.js';
import { startCentral } from '../plugins/uplink/test/uplink-rig.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { report, type BenchContext } from './bench-report.js';
import { load } from './rest-bench.js';

const CLI = fileURLToPath(new URL('../packages/meterhub/bin/meterhub.js', import.meta.url));
const MEASUREMENTS = ['voltageL1', 'currentL1', 'power', 'apparentPower', 'reactivePower', 'powerFactor', 'phaseAngle', 'frequency'];
const BATCH = 1000;

export async function uplinkBench(ctx: BenchContext): Promise<void> {
  const readings = ctx.smoke ? 30_000 : 100_000;
  const central = await startCentral();
  const dir = tempDataDir();
  try {
    // The central host's own rate: batches of the collector's size, one in flight.
    const direct = await load({
      url: `http://127.0.0.1:${central.host.http.port}/api/meters/house/power/`, method: 'POST', headers: { 'x-api-key': central.key },
      seconds: ctx.smoke ? 2 : 5, concurrency: 1, batch: { readings: BATCH, measurements: MEASUREMENTS, startTs: Date.UTC(2019, 0, 1) },
    });
    const directValues = (direct.requests * BATCH * MEASUREMENTS.length) / direct.seconds;

    // A backlog as an outage leaves it: the outbox of a collector that could not reach the server.
    const pluginDir = join(dir.dataDir, 'plugins', 'uplink');
    mkdirSync(pluginDir, { recursive: true });
    const outbox = new Outbox(join(pluginDir, 'outbox.db'));
    outbox.db.transaction(() => {
      for (let i = 0; i < readings; i++) {
        outbox.add({ meterId: 'house', ts: Date.UTC(2020, 0, 1) + i * 1000, values: Object.fromEntries(MEASUREMENTS.map((m, k) => [m, k === 5 ? 0.95 : 230 + ((i + k) % 7)])) });
      }
    })();
    outbox.close();
    writeFileSync(join(dir.root, 'collector.json'), JSON.stringify({
      dataDir: './data', http: { port: 0 },
      // A pure collector, as docs/uplink.md sets one up: no local API, live stream or export loaded.
      discovery: { deny: ['@meterhub/plugin-rest', '@meterhub/plugin-socketio', '@meterhub/plugin-export'] },
      plugins: { uplink: { required: true, config: { url: `http://127.0.0.1:${central.host.http.port}`, key: central.key, batch: { maxReadings: BATCH, maxDelayMs: 50 } } } },
    }));
    const started = performance.now();
    let t0 = 0;
    const child = spawn(process.execPath, [CLI, 'start', '--config', join(dir.root, 'collector.json')], { cwd: dir.root, stdio: 'ignore' });
    const reader = new Database(join(pluginDir, 'outbox.db'), { readonly: true, fileMustExist: true });
    let seconds = 0;
    let peakMb = 0;
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, t0 ? 50 : 5));
        peakMb = Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
        const left = (reader.prepare('SELECT COUNT(*) AS n FROM outbox').get() as { n: number }).n;
        // The clock starts with the first confirmed batch, so the collector's start-up is not counted.
        if (!t0 && left < readings) t0 = performance.now();
        if (left === 0) break;
        if (performance.now() - started > 600_000) throw new Error('the backlog did not drain in 10 minutes');
      }
      seconds = (performance.now() - t0) / 1000 + (readings > BATCH ? BATCH / readings * ((performance.now() - t0) / 1000) : 0);
    } finally {
      reader.close();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    }
    const stored = await central.host.storage!.history('house', { family: 'power', from: Date.UTC(2020, 0, 1), to: Date.UTC(2020, 0, 1) + readings * 1000, resolution: 'raw' });
    const rate = (readings * MEASUREMENTS.length) / seconds;
    report(ctx, `uplink: replay of a ${readings.toLocaleString('en')}-reading backlog (8 values) to a central host`,
      `${Math.round(rate).toLocaleString('en')} values/s (${seconds.toFixed(2)} s from the first confirmed batch), collector peak RSS ${peakMb.toFixed(0)} MB, ${stored.points.length.toLocaleString('en')} rows on the central host`,
      `central batch ingest over HTTP ${Math.round(directValues).toLocaleString('en')} values/s (${BATCH} readings per request, one in flight)`,
      `${((rate / directValues) * 100).toFixed(0)}% (target >= 50%, RSS < 150 MB)`,
      rate >= 0.5 * directValues && peakMb < 150 && stored.points.length === Math.min(readings, 100_000));
  } finally {
    await central.cleanup();
    dir.cleanup();
  }
}
