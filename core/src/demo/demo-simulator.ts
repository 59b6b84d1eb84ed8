import { MeterSimulator, SimulatorTcpEndpoint, type Reading } from '@meterhub/sdk';
import type { DriverRegistry } from '../drivers/driver-registry.js';
import type { Logger } from '../logging/logger.js';

export interface DemoSetup {
  port: number;
  /** Buses and meters to add to the configuration. */
  buses: Array<Record<string, unknown>>;
  meters: Array<Record<string, unknown>>;
  close(): Promise<void>;
}

const DEMO_PORT = 5020;

/**
 * The out-of-the-box demo: a simulated SDM230 (unit 1) and SDM630 (unit 2) on a
 * loopback Modbus TCP port (5020, or any free one), polled through the real TCP
 * transport like hardware would be. `mbpoll -p 5020 127.0.0.1` can read them too.
 */
export async function startDemo(drivers: DriverRegistry, log: Logger, listen = true): Promise<DemoSetup> {
  const sim = new MeterSimulator();
  const meters: Array<Record<string, unknown>> = [];
  for (const [unitId, driverId] of [[1, 'sdm230'], [2, 'sdm630']] as const) {
    const driver = drivers.get(driverId);
    if (!driver) continue;
    sim.addUnit(unitId, driver);
    meters.push({
      id: `demo-${driverId}`,
      name: `Demo ${driver.definition.model}`,
      driver: driverId,
      bus: 'demo',
      unitId,
      intervals: { instantMs: 1000, counterMs: 10000 },
    });
  }
  const bus = (port: number) => [{ id: 'demo', transport: 'modbus-tcp', host: '127.0.0.1', port }];
  // Checking a config (validate, config schema) must not open servers.
  if (!listen) return { port: DEMO_PORT, buses: bus(DEMO_PORT), meters, close: async () => undefined };
  let endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap', host: '127.0.0.1', port: DEMO_PORT });
  try {
    await endpoint.listen();
  } catch {
    endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap', host: '127.0.0.1', port: 0 });
    await endpoint.listen();
  }
  log.info({ port: endpoint.port, meters: meters.map((m) => m.id) }, `demo: simulated SDM230 (unit 1) and SDM630 (unit 2) on modbus-tcp 127.0.0.1:${endpoint.port}`);
  return {
    port: endpoint.port,
    buses: bus(endpoint.port),
    meters,
    close: () => endpoint.close(),
  };
}

/** Logs the first reading of each demo meter, so a first run shows that data flows. */
export function logFirstReadings(log: Logger): (reading: Reading) => void {
  const seen = new Set<string>();
  return (r) => {
    if (seen.has(r.meterId)) return;
    seen.add(r.meterId);
    const v = r.values;
    const fmt = (n: number | undefined, unit: string) => (n === undefined ? '-' : `${n.toFixed(1)} ${unit}`);
    log.info({ meter: r.meterId, values: Object.keys(v).length },
      `first reading from ${r.meterId}: ${Object.keys(v).length} values, power ${fmt(v['power'], 'W')}, voltage L1 ${fmt(v['voltageL1'], 'V')}, import ${fmt(v['importEnergy'], 'kWh')}`);
  };
}
