import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import Modbus from 'modbus-serial';
import { MeterSimulator, SimulatorTcpEndpoint } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { freePort } from '../../../test-support/tcp-ports.js';
import { Host } from '../../../core/src/host.js';
import { createLogger } from '../../../core/src/logging/logger.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';

const run = promisify(execFile);
const PYMODBUS = fileURLToPath(new URL('../../../test-support/pymodbus-read.py', import.meta.url));
const ModbusRTU = Modbus.default;

// The library's server treats port 0 as 502: tests pick a free port first.
export { freePort };

/**
 * A simulator serving an SDM230 (unit 1) and an SDM630 (unit 2), a real host
 * polling them every 200 ms with the REST API and the Modbus server on, and
 * meter "solar" (SDM630, not polled: its values are pushed). Every simulated
 * value is pinned, so the host's latest values stay put while it keeps polling.
 */
export class ServerRig {
  readonly sim = new MeterSimulator();
  endpoint!: SimulatorTcpEndpoint;
  host!: Host;
  modbusPort = 0;
  apiKey = '';
  #cleanup: (() => void) | undefined;

  static async start(pluginConfig: Record<string, unknown> = {}, extraMeters: Array<Record<string, unknown>> = []): Promise<ServerRig> {
    const rig = new ServerRig();
    for (const [unit, driver] of [[1, 'sdm230'], [2, 'sdm630']] as const) {
      const u = rig.sim.addUnit(unit, builtinDriver(driver));
      for (const [m, v] of u.snapshot()) u.pin(m, v);
    }
    rig.endpoint = new SimulatorTcpEndpoint(rig.sim, { framing: 'mbap' });
    const simPort = await rig.endpoint.listen();
    rig.modbusPort = await freePort();
    const dir = tempDataDir();
    rig.#cleanup = dir.cleanup;
    const fast = { instantMs: 200, counterMs: 200 };
    rig.host = new Host({
      config: {
        dataDir: dir.dataDir,
        http: { port: 0 },
        buses: [{ id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port: simPort, interRequestDelayMs: 2, unitSwitchDelayMs: 0, responseTimeoutMs: 400, retries: 1 }],
        meters: [
          { id: 'flat', driver: 'sdm230', bus: 'rs485', unitId: 1, intervals: fast },
          { id: 'house', driver: 'sdm630', bus: 'rs485', unitId: 2, intervals: fast },
          { id: 'solar', driver: 'sdm630', bus: 'rs485', unitId: 3, enabled: false },
          ...extraMeters,
        ],
        plugins: { 'modbus-server': { required: true, config: { enabled: true, port: rig.modbusPort, ...pluginConfig } } },
      },
      cwd: dir.root,
      env: {},
      logger: createLogger({ level: 'silent', pretty: false }),
    });
    await rig.host.start();
    rig.apiKey = (await rig.host.accounts!.keys.create('home assistant', ['read'], null)).key;
    return rig;
  }

  /** GET on the host's REST API with the read key. */
  async rest(path: string): Promise<{ status: number; body: any }> {
    const res = await fetch(`http://127.0.0.1:${this.host.http.port}${path}`, { headers: { 'X-API-Key': this.apiKey } });
    return { status: res.status, body: await res.json() };
  }

  /** The REST `latest` answers of both families, merged. */
  async latest(meter: string): Promise<Record<string, number>> {
    const power = await this.rest(`/api/meters/${meter}/power/latest/`);
    const energy = await this.rest(`/api/meters/${meter}/energy/latest/`);
    if (power.status !== 200 || energy.status !== 200) throw new Error(`no latest values of ${meter}: ${power.status} ${energy.status}`);
    return { ...power.body.values, ...energy.body.values };
  }

  details(): Record<string, any> {
    const plugin = (this.host.status().plugins as Array<{ id: string; details?: Record<string, unknown> }>).find((p) => p.id === 'modbus-server');
    return plugin?.details ?? {};
  }

  meterState(id: string): string | undefined {
    return this.host.status().acquisition.meters.find((m) => m.id === id)?.state;
  }

  async stop(): Promise<void> {
    await this.host.stop();
    await this.endpoint.close();
    this.#cleanup?.();
  }
}

/** Polls `predicate` until it holds, or fails after `timeoutMs` naming `what`. */
export async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 10000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export interface PymodbusResult {
  registers?: number[];
  floats?: number[];
  error?: string;
  exception?: number;
}

/** Reads with pymodbus (Debian's python3-pymodbus), an independent Modbus master. */
export async function pymodbusRead(port: number, unit: number, fn: 'input' | 'holding', address: number, count: number): Promise<PymodbusResult> {
  try {
    const { stdout } = await run('/usr/bin/python3', [PYMODBUS, 'tcp', `127.0.0.1:${port}`, String(unit), fn, String(address), String(count)], { timeout: 20000 });
    // Python writes a NaN float as a bare NaN, which JSON has no literal for.
    const result = JSON.parse(stdout.replace(/\bNaN\b/g, '"NaN"')) as PymodbusResult;
    if (result.floats) result.floats = result.floats.map(Number);
    return result;
  } catch (err) {
    throw new Error(`pymodbus failed (apt-get install python3-pymodbus): ${String(err)}`);
  }
}

/** Reads `floats` float32 input registers (high word first) with mbpoll; "[address]: value" per float. */
export async function mbpollFloats(port: number, unit: number, address: number, floats: number): Promise<Map<number, number>> {
  const args = ['-m', 'tcp', '-p', String(port), '-a', String(unit), '-t', '3:float', '-B', '-0', '-r', String(address), '-c', String(floats), '-1', '-o', '2', '127.0.0.1'];
  let stdout: string;
  try {
    ({ stdout } = await run('mbpoll', args, { timeout: 20000 }));
  } catch (err) {
    throw new Error(`mbpoll failed (apt-get install mbpoll): ${String(err)}`);
  }
  const out = new Map<number, number>();
  for (const m of stdout.matchAll(/^\[(\d+)\]:\s+(\S+)/gm)) out.set(Number(m[1]), Number(m[2]));
  return out;
}

/** A modbus-serial client connected to the server, with a timeout so nothing hangs. */
export async function client(port: number): Promise<InstanceType<typeof ModbusRTU>> {
  const c = new ModbusRTU();
  c.setTimeout(3000);
  await c.connectTCP('127.0.0.1', { port });
  return c;
}

/** The Modbus exception code a rejected request carried (undefined if it did not fail with one). */
export async function exceptionOf(request: Promise<unknown>): Promise<number | undefined> {
  try {
    await request;
    return undefined;
  } catch (err) {
    return (err as { modbusCode?: number }).modbusCode;
  }
}
