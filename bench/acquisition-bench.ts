/**
 * Acquisition benchmark: what a 9600-baud RS485 bus allows, and how close the
 * scheduler gets. The simulator emulates the wire (8N1, 10 ms turnaround) and
 * ignores requests sent sooner than the 60 ms silence Eastron requires, so the
 * figures are those of a real bus, measured against baselines from the same run.
 * The full SDM630 snapshot and the 8-meter bus are also measured through the
 * hand-written Modbus TCP framing used before `modbus-serial` (kept in the bench
 * only), alternating with the current transport so both see the same load.
 */
import {
  MeterSimulator, rtuSilenceMs, SimulatorTcpEndpoint, wireTimeMs,
  type CompiledDriver, type ModbusConnection, type Reading, type ReadBlock, type TransportOptions,
} from '@meterhub/sdk';
import { TcpConnection } from '../plugins/modbus-tcp/src/tcp-connection.js';
import { LegacyTcpConnection, LegacyTcpEndpoint } from './legacy-modbus-tcp.js';
import { BusLink, type BusTiming } from '../core/src/acquisition/bus-link.js';
import { MeterRuntime } from '../core/src/acquisition/meter-runtime.js';
import { AcquisitionService } from '../core/src/acquisition/acquisition-service.js';
import { TransportRegistry } from '../core/src/acquisition/transport-registry.js';
import { createLogger } from '../core/src/logging/logger.js';
import { builtinDriver } from '../test-support/builtin-drivers.js';
import { report, type BenchContext } from './bench-report.js';

const BAUD = 9600;
const TURNAROUND_MS = 10;
const SILENCE_MS = 60;
const WIRE = { baud: BAUD, turnaroundMs: TURNAROUND_MS, minSilenceMs: SILENCE_MS };
const TIMING: BusTiming = { responseTimeoutMs: 1500, probeTimeoutMs: 200, interRequestDelayMs: SILENCE_MS, unitSwitchDelayMs: 0, afterConnectDelayMs: 0, retries: 0 };

/** Wire-time lower bound of a plan: frame bytes at 9600 baud, the RTU end-of-frame gap, turnaround, and 60 ms between requests. */
export function lowerBoundMs(plan: readonly ReadBlock[]): number {
  const perRequest = plan.map((b) => wireTimeMs(8 + 5 + 2 * b.count, BAUD) + rtuSilenceMs(BAUD) + TURNAROUND_MS);
  return perRequest.reduce((a, b) => a + b, 0) + Math.max(0, plan.length - 1) * SILENCE_MS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** `library`: the transport and simulator on modbus-serial. `legacy`: the hand-written framing they replaced. */
type Impl = 'library' | 'legacy';

const connection = (impl: Impl, o: TransportOptions): ModbusConnection => (impl === 'library' ? new TcpConnection(o, 'mbap') : new LegacyTcpConnection(o));

async function withSimulator<T>(driver: CompiledDriver, units: number[], gaps: 'zero-fill' | 'exception', impl: Impl, fn: (port: number, sim: MeterSimulator) => Promise<T>): Promise<T> {
  const sim = new MeterSimulator();
  for (const u of units) sim.addUnit(u, driver, { gaps });
  const ep = impl === 'library' ? new SimulatorTcpEndpoint(sim, { framing: 'mbap', wire: WIRE }) : new LegacyTcpEndpoint(sim, WIRE);
  const port = await ep.listen();
  try {
    return await fn(port, sim);
  } finally {
    await ep.close();
    if (ep.line.violations > 0) throw new Error(`${ep.line.violations} request(s) broke the ${SILENCE_MS} ms silence`);
  }
}

interface SnapshotFigures {
  requests: number;
  medianMs: number;
  lowerBoundMs: number;
}

/** Times full snapshots of one meter through the real transport and poller. */
async function snapshots(driver: CompiledDriver, gaps: 'zero-fill' | 'exception', perRegister: boolean, runs: number, impl: Impl = 'library'): Promise<SnapshotFigures> {
  return withSimulator(driver, [1], gaps, impl, async (port) => {
    const link = new BusLink(connection(impl, { host: '127.0.0.1', port, baud: BAUD, parity: 'none', dataBits: 8, stopBits: 1 }), TIMING);
    const meter = new MeterRuntime({
      id: 'bench', driver: driver.id, bus: 'b', unitId: 1, enabled: true, requestMode: perRegister ? 'per-register' : 'coalesce',
      intervals: { instantMs: 1000, counterMs: 1000 },
    }, driver, Date.now(), perRegister);
    // One cycle first: connects, and lets an exception-mode meter teach its splits.
    const warm = await meter.poll(link, ['instant', 'counter']);
    if (!warm.ok) throw warm.error;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      await new Promise((r) => setTimeout(r, SILENCE_MS));
      const t0 = performance.now();
      const r = await meter.poll(link, ['instant', 'counter']);
      times.push(performance.now() - t0);
      if (!r.ok || Object.keys(r.values).length !== driver.registers.length) throw new Error(`incomplete snapshot: ${Object.keys(r.values).length} values`);
    }
    await link.close();
    const plan = meter.plan(['instant', 'counter']);
    return { requests: plan.length, medianMs: median(times), lowerBoundMs: lowerBoundMs(plan) };
  });
}

/** Runs the real bus scheduler with `count` SDM630s polled as fast as it can; returns the period each meter achieves. */
async function sustainedPeriod(driver: CompiledDriver, count: number, seconds: number, impl: Impl = 'library'): Promise<{ periodMs: number; perMeterLowerBoundMs: number }> {
  const units = Array.from({ length: count }, (_, i) => i + 1);
  return withSimulator(driver, units, 'zero-fill', impl, async (port) => {
    const transports = new TransportRegistry();
    transports.register('modbus-tcp', (o) => connection(impl, o), 'bench');
    const readings: Reading[] = [];
    const service = new AcquisitionService({ drivers: { get: () => driver, list: () => [driver] }, transports, publish: (r) => readings.push(r), log: createLogger({ level: 'silent', pretty: false }) });
    service.start();
    const bus = { id: 'b', transport: 'modbus-tcp' as const, host: '127.0.0.1', port, baud: BAUD, parity: 'none' as const, dataBits: 8 as const, stopBits: 1 as const,
      afterConnectDelayMs: 0, retries: 0, interRequestDelayMs: SILENCE_MS, unitSwitchDelayMs: 0, responseTimeoutMs: 1500 };
    const meters = units.map((u) => ({ id: `m${u}`, driver: driver.id, bus: 'b', unitId: u, enabled: true, requestMode: 'coalesce' as const, intervals: { instantMs: 100, counterMs: 100 } }));
    await service.apply([bus], meters);
    // Let every meter complete a first round, then count whole rounds.
    while (new Set(readings.map((r) => r.meterId)).size < count) await new Promise((r) => setTimeout(r, 10));
    const start = readings.length;
    const t0 = performance.now();
    await new Promise((r) => setTimeout(r, seconds * 1000));
    const elapsed = performance.now() - t0;
    const rounds = (readings.length - start) / count;
    await service.stop();
    const plan = new MeterRuntime(meters[0]!, driver, Date.now()).plan(['instant', 'counter']);
    return { periodMs: elapsed / rounds, perMeterLowerBoundMs: lowerBoundMs(plan) + SILENCE_MS };
  });
}

/** Largest gap between consecutive readings of one meter. */
const largestGap = (rs: readonly Reading[]) => rs.slice(1).reduce((max, r, i) => Math.max(max, r.ts - rs[i]!.ts), 0);

/**
 * One SDM630 (3 values) polled every 500 ms on the emulated 9600-baud bus: the largest gap
 * between its readings, first alone, then while a scan of silent unit ids runs
 * on the same bus (each costs the 60 ms silence and the 200 ms probe timeout).
 */
async function pollGapsDuringScan(seconds: number): Promise<{ alone: number; scanning: number; probeCostMs: number; unitsTried: number }> {
  const driver = builtinDriver('sdm630');
  return withSimulator(driver, [1], 'zero-fill', 'library', async (port) => {
    const transports = new TransportRegistry();
    transports.register('modbus-tcp', (o) => connection('library', o), 'bench');
    const readings: Reading[] = [];
    const service = new AcquisitionService({ drivers: { get: () => driver, list: () => [driver] }, transports, publish: (r) => readings.push(r), log: createLogger({ level: 'silent', pretty: false }) });
    service.start();
    const bus = { id: 'b', transport: 'modbus-tcp' as const, host: '127.0.0.1', port, baud: BAUD, parity: 'none' as const, dataBits: 8 as const, stopBits: 1 as const,
      afterConnectDelayMs: 0, retries: 0, interRequestDelayMs: SILENCE_MS, unitSwitchDelayMs: 0, responseTimeoutMs: 1500, probeTimeoutMs: TIMING.probeTimeoutMs };
    // Power, current and voltage of L1: one short request, so the bus has slack for the scan at this interval.
    await service.apply([bus], [{ id: 'm1', driver: driver.id, bus: 'b', unitId: 1, enabled: true, requestMode: 'coalesce' as const, measurements: ['voltageL1', 'currentL1', 'powerL1'], intervals: { instantMs: 500, counterMs: 500 } }]);
    while (readings.length < 2) await new Promise((r) => setTimeout(r, 10));
    const window = async () => {
      const from = readings.length - 1;
      await new Promise((r) => setTimeout(r, seconds * 1000));
      return largestGap(readings.slice(from));
    };
    const alone = await window();
    const abort = new AbortController();
    let unitsTried = 0;
    const scan = service.scan('b', { units: Array.from({ length: 246 }, (_, i) => i + 2), signal: abort.signal, onProgress: (p) => (unitsTried = p.done) });
    const scanning = await window();
    abort.abort();
    await scan;
    await service.stop();
    return { alone, scanning, probeCostMs: SILENCE_MS + TIMING.probeTimeoutMs, unitsTried };
  });
}

/** Runs `measure` for both implementations in turn, `rounds` times, and keeps the median of each. */
async function alternating<T>(rounds: number, measure: (impl: Impl) => Promise<T>, value: (t: T) => number): Promise<Record<Impl, T>> {
  const runs: Record<Impl, T[]> = { library: [], legacy: [] };
  for (let i = 0; i < rounds; i++) {
    for (const impl of (i % 2 === 0 ? ['library', 'legacy'] : ['legacy', 'library']) as Impl[]) runs[impl].push(await measure(impl));
  }
  const mid = (xs: T[]) => [...xs].sort((a, b) => value(a) - value(b))[Math.floor(xs.length / 2)]!;
  return { library: mid(runs.library), legacy: mid(runs.legacy) };
}

export async function acquisitionBench(ctx: BenchContext): Promise<void> {
  const runs = ctx.smoke ? 2 : 5;
  for (const [id, gaps] of [['sdm630', 'zero-fill'], ['sdm230', 'zero-fill'], ['sdm630', 'exception']] as const) {
    const driver = builtinDriver(id);
    const label = `${id} (${gaps})`;
    const headline = id === 'sdm630' && gaps === 'zero-fill';
    const both = headline ? await alternating(ctx.smoke ? 1 : 3, (impl) => snapshots(driver, gaps, false, runs, impl), (f) => f.medianMs) : undefined;
    const coalesced = both?.library ?? await snapshots(driver, gaps, false, runs);
    const single = await snapshots(driver, gaps, true, ctx.smoke ? 1 : 2);
    const speedup = single.medianMs / coalesced.medianMs;
    const theoretical = single.lowerBoundMs / coalesced.lowerBoundMs;
    report(ctx, `${label}: requests per full snapshot`, `${coalesced.requests}`, `one request per measurement: ${single.requests}`,
      `${(single.requests / coalesced.requests).toFixed(1)}x fewer`, headline ? coalesced.requests <= 4 : true);
    const limit = headline ? 1.05 : 1.15;
    report(ctx, `${label}: time per full snapshot`, `${coalesced.medianMs.toFixed(0)} ms`, `wire-time lower bound ${coalesced.lowerBoundMs.toFixed(0)} ms`,
      `${(coalesced.medianMs / coalesced.lowerBoundMs).toFixed(3)}x the bound (target <= ${limit}x)`, coalesced.medianMs <= limit * coalesced.lowerBoundMs);
    if (both) {
      report(ctx, `${label}: time per full snapshot, hand-written framing (before modbus-serial)`, `${both.legacy.medianMs.toFixed(0)} ms`,
        `on modbus-serial ${both.library.medianMs.toFixed(0)} ms`, `${(both.legacy.medianMs / both.legacy.lowerBoundMs).toFixed(3)}x the bound; modbus-serial / hand-written ${(both.library.medianMs / both.legacy.medianMs).toFixed(3)}`, true);
    }
    const speedTarget = headline ? speedup >= 7.5 : speedup >= 0.85 * theoretical;
    report(ctx, `${label}: speed-up over one request per measurement`, `${speedup.toFixed(2)}x`, `per-measurement snapshot ${single.medianMs.toFixed(0)} ms`,
      `${((speedup / theoretical) * 100).toFixed(0)}% of the ${theoretical.toFixed(2)}x the request counts allow (target ${headline ? '>= 7.5x' : '>= 85%'})`, speedTarget);
  }
  // The smoke run skips the hand-written baseline of the 8-meter bus: it would double the longest part of the run.
  const eights = ctx.smoke ? undefined : await alternating(3, (impl) => sustainedPeriod(builtinDriver('sdm630'), 8, 14, impl), (f) => f.periodMs);
  const eight = eights?.library ?? await sustainedPeriod(builtinDriver('sdm630'), 8, 6);
  const bound = 8 * eight.perMeterLowerBoundMs;
  report(ctx, '8 x SDM630 on one 9600-baud bus: shortest sustainable poll period', `${(eight.periodMs / 1000).toFixed(2)} s`,
    `wire-time lower bound ${(bound / 1000).toFixed(2)} s`, `${(eight.periodMs / bound).toFixed(3)}x the bound (target <= 1.05x)`, eight.periodMs <= 1.05 * bound);
  const gaps = await pollGapsDuringScan(ctx.smoke ? 3 : 8);
  // A due poll waits at most one unit id's probe: the scan never cuts into a cycle.
  report(ctx, 'SDM630 polled every 500 ms while its bus is scanned: largest gap between readings', `${gaps.scanning} ms (${gaps.unitsTried} unit ids tried)`,
    `without a scan ${gaps.alone} ms`, `+${gaps.scanning - gaps.alone} ms (target <= one probe, ${gaps.probeCostMs} ms, + 50 ms)`, gaps.scanning - gaps.alone <= gaps.probeCostMs + 50);
  if (eights) {
    report(ctx, '8 x SDM630, hand-written framing (before modbus-serial)', `${(eights.legacy.periodMs / 1000).toFixed(2)} s`,
      `on modbus-serial ${(eight.periodMs / 1000).toFixed(2)} s`, `${(eights.legacy.periodMs / bound).toFixed(3)}x the bound; modbus-serial / hand-written ${(eight.periodMs / eights.legacy.periodMs).toFixed(3)}`, true);
  }
}
