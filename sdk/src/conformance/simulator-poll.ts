import type { CompiledDriver } from '../driver/compiled-driver.js';
import { decodeBlock, planReads } from '../driver/request-planner.js';
import { describeError } from '../errors/error-catalog.js';
import { MeterSimulator } from '../simulator/meter-simulator.js';
import { SimulatorTcpEndpoint } from '../simulator/simulator-endpoints.js';
import { LibraryConnection } from '../transport/library-connection.js';
import { invalidReason } from '../vocabulary/value-checks.js';

/** One problem the poll found, with the JSON path of the register at fault. */
export interface PollProblem {
  path: string;
  message: string;
}

/*
 * The kit checks that a register map decodes, not how fast a meter answers:
 * a loaded machine must not fail a correct driver, so the timeout is generous.
 */
const READ_TIMEOUT_MS = 5000;

/*
 * A float32 register carries 24 significant bits: a value converted between
 * units (kW on the wire, W in the vocabulary) comes back within that, while a
 * wrong word order, type or scale misses by orders of magnitude.
 */
const close = (a: number, b: number, float32: boolean) => Math.abs(a - b) <= (float32 ? 2 ** -22 : 1e-9) * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Starts the SDK simulator serving `driver` as unit 1 on a loopback Modbus TCP
 * port, with every measurement pinned to its value in `served`, then reads it
 * once with the requests the host would plan (the driver's register cap,
 * alignment and gap behaviour) through the same Modbus client the host's
 * modbus-tcp transport uses, and compares what decodes with what was served.
 * A refused read is a problem too: the simulator enforces the driver's own
 * limits, so a refusal means the definition contradicts itself.
 */
export async function pollSimulator(driver: CompiledDriver, served: ReadonlyMap<string, number>): Promise<PollProblem[]> {
  const sim = new MeterSimulator();
  const unit = sim.addUnit(1, driver);
  for (const [id, value] of served) unit.pin(id, value);
  const endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
  const port = await endpoint.listen();
  const connection = new LibraryConnection({
    description: `modbus-tcp 127.0.0.1:${port} (the simulator)`,
    hints: {},
    open: (client) => client.connectTCP('127.0.0.1', { port }),
    connectError: (err) => err.message,
    closedMessage: 'the simulator closed the connection',
  });
  const pathOf = (id: string) => `/registers/${driver.registers.indexOf(driver.byMeasurement.get(id)!)}`;
  const problems: PollProblem[] = [];
  const values: Record<string, number> = {};
  try {
    await connection.connect();
    for (const block of planReads(driver, driver.registers, { gaps: driver.definition.limits.gaps })) {
      try {
        const data = await connection.read({ unitId: 1, function: block.function, address: block.address, count: block.count, timeoutMs: READ_TIMEOUT_MS });
        decodeBlock(block, data, values);
      } catch (err) {
        const ids = block.registers.map((r) => r.measurement.id);
        problems.push({
          path: pathOf(ids[0]!),
          message: `reading ${block.count} ${block.function} register(s) from address ${block.address} (${ids.join(', ')}) failed: ${describeError(err)} (check limits.maxRegistersPerRequest, limits.alignment and limits.gaps)`,
        });
      }
    }
  } finally {
    await connection.close();
    await endpoint.close();
  }
  for (const [id, want] of served) {
    const got = values[id];
    if (got === undefined) continue; // its read failed, reported above
    const reg = driver.byMeasurement.get(id)!;
    const invalid = invalidReason(reg.measurement, got);
    if (!close(got, want, reg.encoding.type === 'float32')) problems.push({ path: pathOf(id), message: `${id}: served ${want}, decoded ${got} (check type, word and byte order, scale, unit)` });
    else if (invalid) problems.push({ path: pathOf(id), message: `${id}: decoded ${got}, which the host would drop: ${invalid}` });
  }
  return problems;
}
