/**
 * MQTT benchmark: 100 meters × 1 reading/s (the SDM630's 86 values each),
 * spread over the second, published through the host's MQTT plugin to the
 * local Mosquitto in `json` and in `values` mode and received by a subscriber
 * in another process. Reading-to-receipt latency and the host CPU the plugin
 * adds (host with MQTT minus the same host without it, fed the same
 * readings), beside a bare `mqtt` client publishing the same messages at the
 * same QoS in the same run.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { Host } from '../core/src/host.js';
import { createLogger } from '../core/src/logging/logger.js';
import { tempDataDir } from '../core/test/helpers/temp-data-dir.js';
import { clearRetained } from '../plugins/mqtt/test/mqtt-rig.js';
import { builtinDriver } from '../test-support/builtin-drivers.js';
import { report, type BenchContext } from './bench-report.js';

const SUBSCRIBER = fileURLToPath(new URL('./mqtt-subscriber.ts', import.meta.url));
const BROKER = 'mqtt://127.0.0.1:1883';
const METERS = 100;
/** An instant measurement whose value carries the reading's time, so values mode can be timed. */
const MARKER = 'powerDemand';
const MEASUREMENTS = [...builtinDriver('sdm630').byMeasurement.values()].map((r) => r.measurement);

type Mode = 'json' | 'values';
interface Received { states: number; values: number; configs: number; duplicates: number; p50: number; p99: number }

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function readingValues(k: number, ts: number): Record<string, number> {
  return Object.fromEntries(MEASUREMENTS.map((m, i) => [m.id, m.id === MARKER ? ts : m.kind === 'counter' ? 1000 + i + k * 0.01 : 200 + ((k + i) % 37) / 10]));
}

/** One reading per meter per second, the meters spread evenly over the second. Returns the readings sent. */
async function schedule(seconds: number, publish: (meter: number, k: number, ts: number) => void): Promise<number> {
  const total = METERS * seconds;
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor((performance.now() - start) / (1000 / METERS)) + 1);
    for (; sent < due; sent++) publish(sent % METERS, Math.floor(sent / METERS), Date.now());
    await sleep(5);
  }
  return total;
}

class Subscriber {
  private constructor(private readonly child: ChildProcess) {}

  static async start(root: string): Promise<Subscriber> {
    const child = fork(SUBSCRIBER, [JSON.stringify({ url: BROKER, root, marker: MARKER })], { execArgv: ['--import', 'tsx'], stdio: 'inherit' });
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`subscriber exited with ${code}`)));
    });
    return new Subscriber(child);
  }

  report(): Promise<Received> {
    return new Promise((resolve) => {
      this.child.once('message', (m) => resolve(m as Received));
      this.child.send({ report: true });
    });
  }

  /** Polls until `done` holds or `timeoutMs` passes; returns the last report. */
  async until(done: (r: Received) => boolean, timeoutMs: number): Promise<Received> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = await this.report();
      if (done(r) || Date.now() > deadline) return r;
      await sleep(50);
    }
  }

  stop(): void {
    this.child.disconnect();
  }
}

interface Run { cpuPercent: number; received?: Received; expected: number }

/** Runs the schedule and measures this process's CPU until the subscriber has everything (or 10 s after the last reading). */
async function measure(seconds: number, mode: Mode, publish: (meter: number, k: number, ts: number) => void, sub?: Subscriber): Promise<Run> {
  const before = sub ? await sub.report() : undefined;
  const cpu0 = process.cpuUsage();
  const readings = await schedule(seconds, publish);
  const expected = mode === 'json' ? readings : readings * MEASUREMENTS.length;
  const count = (r: Received) => (mode === 'json' ? r.states - before!.states : r.values - before!.values);
  const after = sub ? await sub.until((r) => count(r) >= expected, 10_000) : undefined;
  const cpu = process.cpuUsage(cpu0);
  const received = after && before ? { ...after, states: after.states - before.states, values: after.values - before.values } : undefined;
  return { cpuPercent: ((cpu.user + cpu.system) / 1000 / (seconds * 1000)) * 100, expected, ...(received ? { received } : {}) };
}

async function withHost<T>(mqttConfig: Record<string, unknown> | undefined, fn: (host: Host) => Promise<T>): Promise<T> {
  const dir = tempDataDir();
  const host = new Host({
    config: {
      dataDir: dir.dataDir, http: { port: 0 },
      discovery: { deny: ['@meterhub/plugin-rest', '@meterhub/plugin-socketio', '@meterhub/plugin-export', '@meterhub/plugin-uplink'] },
      buses: [{ id: 'pushed', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
      meters: Array.from({ length: METERS }, (_, i) => ({ id: `m${i}`, driver: 'sdm630', bus: 'pushed', unitId: i + 1, enabled: false })),
      ...(mqttConfig ? { plugins: { mqtt: { required: true, config: mqttConfig } } } : {}),
    },
    cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
  });
  await host.start();
  try {
    return await fn(host);
  } finally {
    await host.stop();
    dir.cleanup();
  }
}

const viaHost = (host: Host) => (meter: number, k: number, ts: number) => host.bus.publish({ meterId: `m${meter}`, ts, values: readingValues(k, ts) });

export async function mqttBench(ctx: BenchContext): Promise<void> {
  const seconds = ctx.smoke ? 2 : 10;
  const run = `mhbench-${randomBytes(4).toString('hex')}`;
  // The host's own cost of taking the readings (storage, bus) without MQTT, subtracted from the runs with it.
  const idle = await withHost(undefined, (host) => measure(seconds, 'json', viaHost(host)));
  for (const mode of ['json', 'values'] as const) {
    const root = `${run}-${mode}`;
    const sub = await Subscriber.start(root);
    try {
      // Bare client: the same messages, same QoS, no host.
      const client = await mqtt.connectAsync(BROKER, { clientId: `${root}-bare` });
      const bare = await measure(seconds, mode, (meter, k, ts) => {
        const values = readingValues(k, ts);
        if (mode === 'json') client.publish(`${root}/bare/m${meter}/state`, JSON.stringify({ ts, time: new Date(ts).toISOString(), values }), { qos: 1 });
        else for (const id in values) client.publish(`${root}/bare/m${meter}/${id}`, String(values[id]), { qos: 1 });
      }, sub);
      await client.endAsync();

      const plugin = await withHost({ url: BROKER, topicPrefix: `${root}/meterhub`, publish: mode, homeAssistant: { discoveryPrefix: `${root}/homeassistant` } }, async (host) => {
        // Discovery (one retained config per meter and measurement) is sent at connect; the clock starts after it.
        await sub.until((r) => r.configs >= METERS * MEASUREMENTS.length + 1, 30_000);
        return measure(seconds, mode, viaHost(host), sub);
      });
      const added = plugin.cpuPercent - idle.cpuPercent;
      const lost = (r: Run) => r.expected - (mode === 'json' ? r.received!.states : r.received!.values);
      report(ctx, `mqtt (${mode} mode): ${METERS} meters × 1 reading/s × ${MEASUREMENTS.length} values, ${seconds} s`,
        `p50 ${plugin.received!.p50} ms, p99 ${plugin.received!.p99} ms, ${lost(plugin)} lost of ${plugin.expected.toLocaleString('en')}, host CPU ${plugin.cpuPercent.toFixed(1)}% (${added.toFixed(1)}% for MQTT over ${idle.cpuPercent.toFixed(1)}% without it)`,
        `bare mqtt client p50 ${bare.received!.p50} ms, p99 ${bare.received!.p99} ms, ${lost(bare)} lost, CPU ${bare.cpuPercent.toFixed(1)}%`,
        `${(added / bare.cpuPercent).toFixed(2)}× the bare client's CPU (target <= 1.5×, 0 lost)`,
        added <= 1.5 * bare.cpuPercent && lost(plugin) === 0);
    } finally {
      sub.stop();
      await clearRetained(1883, root);
    }
  }
}
