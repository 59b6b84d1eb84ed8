import { expect } from 'chai';
import { pino } from 'pino';
import { MeterSimulator, SimulatorTcpEndpoint, type Reading, type WireEmulation } from '@meterhub/sdk';
import { TcpConnection } from '@meterhub/plugin-modbus-tcp';
import { AcquisitionService } from '../../src/acquisition/acquisition-service.js';
import { TransportRegistry } from '../../src/acquisition/transport-registry.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const WINDOW_S = 10;

interface LogLine { level: number; msg: string; meter?: string; neededMs?: number; availableMs?: number }

/**
 * Two healthy meters and three unit ids nobody answers, on one bus of the
 * simulator polled at 1 s through the real TCP transport and bus scheduler.
 */
async function deadUnitBus(opts: { healthy: string; wire: WireEmulation; maxBackoffMs: number; measurements?: string[] }) {
  const sim = new MeterSimulator();
  sim.addUnit(1, builtinDriver(opts.healthy));
  sim.addUnit(2, builtinDriver(opts.healthy));
  const endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap', wire: opts.wire });
  const port = await endpoint.listen();
  const transports = new TransportRegistry();
  transports.register('modbus-tcp', (o) => new TcpConnection(o, 'mbap'), 'test');
  const readings: Reading[] = [];
  const log: LogLine[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => void log.push(JSON.parse(line) as LogLine) });
  const drivers = new Map([[opts.healthy, builtinDriver(opts.healthy)]]);
  const service = new AcquisitionService({ drivers, transports, publish: (r) => readings.push(r), log: logger, maxBackoffMs: opts.maxBackoffMs });
  service.start();
  const meter = (id: string, unitId: number) => ({
    id, driver: opts.healthy, bus: 'b', unitId, enabled: true, requestMode: 'coalesce' as const, intervals: { instantMs: 1000, counterMs: 1000 }, ...(opts.measurements ? { measurements: opts.measurements } : {}),
  });
  await service.apply(
    [{ id: 'b', transport: 'modbus-tcp', host: '127.0.0.1', port, baud: 9600, parity: 'none', dataBits: 8, stopBits: 1,
      // The SDM drivers' timing: 60 ms silence, 40 ms more on a unit switch, 500 ms response timeout.
      afterConnectDelayMs: 0, retries: 1, interRequestDelayMs: 60, unitSwitchDelayMs: 40, responseTimeoutMs: 500, probeTimeoutMs: 150 }],
    [meter('h1', 1), meter('h2', 2), meter('d3', 3), meter('d4', 4), meter('d5', 5)],
  );
  const status = (id: string) => service.status().meters.find((m) => m.id === id)!;
  const deadline = Date.now() + 15_000;
  while (!['d3', 'd4', 'd5'].every((id) => status(id).state === 'offline')) {
    if (Date.now() > deadline) throw new Error('the dead units never went offline');
    await sleep(20);
  }
  // Their first contact (full timeout and retry each) is over; let the cycle running then be recorded.
  await sleep(1500);
  return {
    readings, log, status,
    async stop() {
      await service.stop();
      await endpoint.close();
    },
  };
}

/**
 * Per-second accounting: a meter polled at 1 s owns one slot per second on its
 * grid (origin: its first reading). Returns the slots in [from, to) that got no reading.
 */
function missedSlots(readings: readonly Reading[], meterId: string, from: number, to: number): number[] {
  const ts = readings.filter((r) => r.meterId === meterId).map((r) => r.ts);
  const origin = ts[0]!;
  const got = new Set(ts.map((t) => Math.round((t - origin) / 1000)));
  const missed: number[] = [];
  for (let k = Math.ceil((from - origin) / 1000); origin + k * 1000 < to; k++) if (!got.has(k)) missed.push(k);
  return missed;
}

/** The longest time between two consecutive readings of a meter within [from, to). */
function longestGap(readings: readonly Reading[], meterId: string, from: number, to: number): number {
  const ts = readings.filter((r) => r.meterId === meterId && r.ts >= from - 1000 && r.ts < to).map((r) => r.ts);
  return Math.max(0, ...ts.slice(1).map((t, i) => t - ts[i]!));
}

describe('acquisition: dead units cost healthy meters nothing', function () {
  this.timeout(60_000);

  it(`with slack on a 9600-baud bus, 3 dead unit ids are probed and 2 healthy SDM230 keep every 1 s reading (${WINDOW_S}/${WINDOW_S})`, async () => {
    // Voltage, current and power of two SDM230 take about 0.35 s of the bus every second: a probe with the
    // full 500 ms timeout could push a poll past its slot, a 150 ms probe in the slack cannot.
    const measurements = ['voltageL1', 'currentL1', 'power'];
    const bus = await deadUnitBus({ healthy: 'sdm230', wire: { baud: 9600, turnaroundMs: 10, minSilenceMs: 60 }, maxBackoffMs: 4000, measurements });
    try {
      const probesBefore = ['d3', 'd4', 'd5'].map((id) => bus.status(id).cycles);
      const overrunsBefore = ['h1', 'h2'].map((id) => bus.status(id).overruns);
      const logBefore = bus.log.length;
      const from = Date.now();
      await sleep(WINDOW_S * 1000 + 200);
      const to = from + WINDOW_S * 1000;
      ['h1', 'h2'].forEach((id, i) => {
        expect(missedSlots(bus.readings, id, from, to), `${id}: seconds without a reading`).to.deep.equal([]);
        expect(longestGap(bus.readings, id, from, to), `${id}: longest gap between readings, ms`).to.be.below(1400);
        expect(bus.status(id).overruns - overrunsBefore[i]!, `${id} overruns`).to.equal(0);
      });
      // Each dead unit was probed in the window (back-off at most 4 s), in the slack: never forced.
      ['d3', 'd4', 'd5'].forEach((id, i) => expect(bus.status(id).cycles, `${id} probes`).to.be.greaterThan(probesBefore[i]!));
      expect(bus.log.slice(logBefore).filter((l) => l.msg.includes('without slack'))).to.have.length(0);
    } finally {
      await bus.stop();
    }
  });

  it('without slack (two SDM630 that need 1.5 s of a 9600-baud bus every second), dead units are still probed once per back-off period, and the log says so and warns of the overrun once with the figures', async () => {
    const maxBackoffMs = 3000;
    const bus = await deadUnitBus({ healthy: 'sdm630', wire: { baud: 9600, turnaroundMs: 10, minSilenceMs: 60 }, maxBackoffMs });
    try {
      const probesBefore = ['d3', 'd4', 'd5'].map((id) => bus.status(id).cycles);
      const forcedBefore = bus.log.filter((l) => l.msg.includes('without slack')).length;
      await sleep(WINDOW_S * 1000);
      // A forced probe waits for the cycle in progress (about 0.8 s): at least one per back-off period plus that.
      const atLeast = Math.floor((WINDOW_S * 1000) / (maxBackoffMs + 1000));
      ['d3', 'd4', 'd5'].forEach((id, i) => expect(bus.status(id).cycles - probesBefore[i]!, `${id} probes`).to.be.at.least(atLeast));
      const forced = bus.log.filter((l) => l.msg.includes('without slack'));
      expect(forced.length - forcedBefore).to.be.at.least(3 * atLeast);
      expect(forced[0]!.level).to.equal(30);
      const warnings = bus.log.filter((l) => l.msg.includes('cannot keep its poll intervals'));
      expect(warnings, 'one overrun warning in the first minute').to.have.length(1);
      expect(warnings[0]!.level).to.equal(40);
      expect(warnings[0]!.availableMs).to.equal(1000);
      expect(warnings[0]!.neededMs).to.be.greaterThan(1000);
      expect(bus.status('h1').overruns).to.be.greaterThan(0);
    } finally {
      await bus.stop();
    }
  });
});
