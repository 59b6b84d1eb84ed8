import { MeterSimulator, SimulatorTcpEndpoint, type Reading, type WireEmulation } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { Host } from '../../src/host.js';
import { createLogger } from '../../src/logging/logger.js';
import { tempDataDir } from './temp-data-dir.js';

export interface RigUnit {
  unit: number;
  driver: string;
  gaps?: 'zero-fill' | 'exception';
  pins?: Record<string, number>;
}

export interface RigOptions {
  units: RigUnit[];
  framing?: 'mbap' | 'rtu';
  wire?: WireEmulation;
  meters: Array<Record<string, unknown>>;
  bus?: Record<string, unknown>;
  /** The host's logger; silent by default. */
  logger?: ReturnType<typeof createLogger>;
}

/**
 * A simulator on loopback and a real host polling it through the real TCP
 * transport plugin, collecting every reading it publishes.
 */
export class AcquisitionRig {
  readonly sim = new MeterSimulator();
  endpoint!: SimulatorTcpEndpoint;
  host!: Host;
  readonly readings: Reading[] = [];
  #cleanup: (() => void) | undefined;

  static async start(opts: RigOptions): Promise<AcquisitionRig> {
    const rig = new AcquisitionRig();
    for (const u of opts.units) {
      const unit = rig.sim.addUnit(u.unit, builtinDriver(u.driver), u.gaps ? { gaps: u.gaps } : {});
      for (const [m, v] of Object.entries(u.pins ?? {})) unit.pin(m, v);
    }
    const framing = opts.framing ?? 'mbap';
    rig.endpoint = new SimulatorTcpEndpoint(rig.sim, { framing, ...(opts.wire ? { wire: opts.wire } : {}) });
    const port = await rig.endpoint.listen();
    const dir = tempDataDir();
    rig.#cleanup = dir.cleanup;
    rig.host = new Host({
      config: {
        dataDir: dir.dataDir,
        http: { port: 0 },
        buses: [{
          id: 'b1', transport: framing === 'mbap' ? 'modbus-tcp' : 'rtu-over-tcp', host: '127.0.0.1', port,
          interRequestDelayMs: 2, unitSwitchDelayMs: 0, responseTimeoutMs: 150, ...opts.bus,
        }],
        meters: opts.meters,
      },
      cwd: dir.root,
      env: {},
      logger: opts.logger ?? createLogger({ level: 'silent', pretty: false }),
    });
    rig.host.bus.subscribe((r) => rig.readings.push(r));
    await rig.host.start();
    return rig;
  }

  of(meterId: string): Reading[] {
    return this.readings.filter((r) => r.meterId === meterId);
  }

  meterStatus(id: string) {
    return this.host.status().acquisition.meters.find((m) => m.id === id)!;
  }

  busStatus() {
    return this.host.status().acquisition.buses[0]!;
  }

  /** Polls `predicate` until it holds, or fails after `timeoutMs` with `what`. */
  async waitFor(what: string, predicate: () => boolean, timeoutMs = 5000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    await this.host.stop();
    await this.endpoint.close();
    this.#cleanup?.();
  }
}

export const meter = (id: string, unitId: number, driver: string, extra: Record<string, unknown> = {}) => ({
  id, driver, bus: 'b1', unitId, enabled: true, requestMode: 'coalesce', intervals: { instantMs: 200, counterMs: 200 }, ...extra,
});
