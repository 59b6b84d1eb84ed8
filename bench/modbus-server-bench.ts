/**
 * Modbus TCP server benchmark: 32 concurrent clients (in a separate process)
 * reading a full SDM630 block (80 input registers from 30001) from the host's
 * Modbus server, beside a bare `modbus-serial` ServerTCP answering the same
 * registers from a static array, in the same run.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ServerTCP } from 'modbus-serial';
import { ServerRig, client, freePort, until } from '../plugins/modbus-server/test/server-rig.js';
import { report, type BenchContext } from './bench-report.js';

const run = promisify(execFile);
const LOAD = fileURLToPath(new URL('./modbus-load.ts', import.meta.url));
/** The SDM630's most registers per request. */
const BLOCK = 80;
const CLIENTS = 32;

interface LoadResult { requests: number; seconds: number; rps: number; p50: number; p99: number; errors: number; cpuUsPerRequest: number }

/** One round of load; also the server process's CPU time per request, which a busy machine disturbs less than the rate. */
async function load(port: number, seconds: number): Promise<LoadResult> {
  const options = { port, unit: 2, address: 0, count: BLOCK, clients: CLIENTS, seconds };
  const cpu0 = process.cpuUsage();
  const { stdout } = await run(process.execPath, ['--import', 'tsx', LOAD, JSON.stringify(options)], { maxBuffer: 1 << 20 });
  const cpu = process.cpuUsage(cpu0);
  const result = JSON.parse(stdout) as Omit<LoadResult, 'cpuUsPerRequest'>;
  return { ...result, cpuUsPerRequest: (cpu.user + cpu.system) / Math.max(1, result.requests) };
}

export async function modbusServerBench(ctx: BenchContext): Promise<void> {
  const seconds = ctx.smoke ? 1.5 : 5;
  const rig = await ServerRig.start();
  let bare: ServerTCP | undefined;
  try {
    await until('house polled', async () => rig.meterState('house') === 'online' && (await rig.rest('/api/meters/house/energy/latest/')).status === 200);
    // The same words the server answers, captured once: the bare server copies them from a static array.
    const c = await client(rig.modbusPort);
    c.setID(2);
    const words = (await c.readInputRegisters(0, BLOCK)).data;
    await new Promise<void>((r) => c.close(() => r()));
    const barePort = await freePort();
    bare = new ServerTCP({
      getInputRegister: (addr: number) => words[addr] ?? 0,
      getMultipleInputRegisters: (addr: number, len: number) => words.slice(addr, addr + len),
    }, { host: '127.0.0.1', port: barePort, unitID: 255 });
    await new Promise((resolve, reject) => {
      bare!.once('initialized', resolve);
      bare!.once('serverError', reject);
    });

    // A warm-up round for each side, then alternating timed rounds, best of each side.
    await load(rig.modbusPort, ctx.smoke ? 0.5 : 1);
    await load(barePort, ctx.smoke ? 0.5 : 1);
    let ours: LoadResult | undefined;
    let base: LoadResult | undefined;
    for (let round = 0; round < (ctx.smoke ? 1 : 3); round++) {
      const o = await load(rig.modbusPort, seconds);
      const b = await load(barePort, seconds);
      if (!ours || o.rps > ours.rps) ours = o;
      if (!base || b.rps > base.rps) base = b;
    }
    if (!ours || !base) throw new Error('no load result');
    report(ctx, `modbus-server: ${CLIENTS} clients reading 80 SDM630 input registers`,
      `${Math.round(ours.rps).toLocaleString('en')} req/s, p99 ${ours.p99.toFixed(1)} ms, ${ours.cpuUsPerRequest.toFixed(0)} µs CPU/request (${ours.errors} errors)`,
      `bare modbus-serial ServerTCP ${Math.round(base.rps).toLocaleString('en')} req/s, p99 ${base.p99.toFixed(1)} ms, ${base.cpuUsPerRequest.toFixed(0)} µs CPU/request`,
      `${((ours.rps / base.rps) * 100).toFixed(0)}% (target >= 70%)`,
      ours.rps >= 0.7 * base.rps && ours.errors === 0 && base.errors === 0);
  } finally {
    await new Promise<void>((r) => (bare ? bare.close(() => r()) : r()));
    await rig.stop();
  }
}
