import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { CompiledDriver } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { ServerRig, client, exceptionOf, mbpollFloats, pymodbusRead, until } from './server-rig.js';

/** Register words as float32, high word first (the SDM layout). */
function floatAt(words: readonly number[], index: number): number {
  const b = Buffer.alloc(4);
  b.writeUInt16BE(words[index]!, 0);
  b.writeUInt16BE(words[index + 1]!, 2);
  return b.readFloatBE(0);
}

/** What a served block must hold: each mapped float equals the REST value in the driver's unit; gaps are zero. */
function expectBlock(driver: CompiledDriver, latest: Record<string, number>, start: number, words: readonly number[], label: string): void {
  let checked = 0;
  for (let a = start; a < start + words.length; a += 2) {
    const reg = driver.registers.find((r) => r.function === 'input' && r.address === a);
    const got = floatAt(words, a - start);
    if (!reg) {
      expect(got, `${label}: gap at ${a}`).to.equal(0);
      continue;
    }
    const want = latest[reg.measurement.id]! / reg.factor;
    expect(want, `${label}: REST has ${reg.measurement.id}`).to.be.a('number');
    expect(got, `${label}: ${reg.measurement.id} at ${a}`).to.be.closeTo(want, Math.abs(want) * 1e-6 + 1e-9);
    checked++;
  }
  const mapped = driver.registers.filter((r) => r.function === 'input' && r.address >= start && r.address < start + words.length).length;
  expect(checked, `${label}: mapped values in the block`).to.equal(mapped).and.be.greaterThan(5);
}

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));
const run = promisify(execFile);
const SDM630 = builtinDriver('sdm630');
const SDM230 = builtinDriver('sdm230');

describe('Modbus TCP server sharing the meters', function () {
  this.timeout(60000);
  let rig: ServerRig;

  before(async () => {
    rig = await ServerRig.start({ allow: ['127.0.0.1', '::1'], units: { shed: 9 } }, [
      { id: 'shed', driver: 'sdm230', bus: 'rs485', unitId: 4, enabled: false },
    ]);
    await until('both meters polled', async () => rig.meterState('house') === 'online' && rig.meterState('flat') === 'online' &&
      (await rig.rest('/api/meters/house/energy/latest/')).status === 200 && (await rig.rest('/api/meters/flat/energy/latest/')).status === 200);
  });

  after(async () => {
    await rig?.stop();
  });

  it('mbpoll and pymodbus, on concurrent connections, read SDM630 and SDM230 values equal to the REST latest answer', async () => {
    const house = await rig.latest('house');
    const flat = await rig.latest('flat');
    const port = rig.modbusPort;
    const [py630, py630b, py230, mb630, mb230, mbEnergy] = await Promise.all([
      pymodbusRead(port, 2, 'input', 0, 80),
      pymodbusRead(port, 2, 'input', 340, 40),
      pymodbusRead(port, 1, 'input', 0, 60),
      mbpollFloats(port, 2, 0, 40),
      mbpollFloats(port, 1, 0, 30),
      mbpollFloats(port, 2, 342, 2),
    ]);
    expectBlock(SDM630, house, 0, py630.registers!, 'pymodbus SDM630 0-79');
    expectBlock(SDM630, house, 340, py630b.registers!, 'pymodbus SDM630 340-379');
    expectBlock(SDM230, flat, 0, py230.registers!, 'pymodbus SDM230 0-59');
    for (const [reads, driver, latest] of [[mb630, SDM630, house], [mb230, SDM230, flat], [mbEnergy, SDM630, house]] as const) {
      expect(reads.size).to.be.greaterThan(0);
      for (const [address, value] of reads) {
        const reg = driver.registers.find((r) => r.address === address);
        const want = reg ? latest[reg.measurement.id]! / reg.factor : 0;
        expect(value, `mbpoll ${driver.id} at ${address}`).to.be.closeTo(want, Math.abs(want) * 1e-5 + 1e-6);
      }
    }
    expect(mbEnergy.get(342)).to.be.closeTo(house['totalEnergy']! / SDM630.byMeasurement.get('totalEnergy')!.factor, 1e-2);
    // Status figures are published once a second.
    await until('status counts the clients', () => rig.details()['connections'] >= 6 && rig.details()['requests'] >= 6, 5000);
    expect(rig.details()['units']).to.deep.include({ unitId: 2, meter: 'house', driver: 'sdm630' });
  });

  it('meterhub read, polling the server as it would a real SDM630 (merged reads across gaps), gets every value REST has', async () => {
    const { stdout } = await run(process.execPath, [CLI, 'read', '--driver', 'sdm630', '--tcp', `127.0.0.1:${rig.modbusPort}`, '--unit', '2', '--json', '--timeout', '2000'], { timeout: 30000 });
    const out = JSON.parse(stdout) as { values: Record<string, number> };
    const latest = await rig.latest('house');
    expect(Object.keys(out.values).sort()).to.deep.equal(Object.keys(latest).sort());
    for (const [m, v] of Object.entries(latest)) expect(out.values[m], m).to.be.closeTo(v, Math.abs(v) * 1e-6 + 1e-9);
  });

  it('answers 02 for addresses the map lacks, 03 beyond 125 registers, 01 for writes and coils, 0x0B for unknown unit ids', async () => {
    const py = await pymodbusRead(rig.modbusPort, 2, 'input', 1000, 2);
    expect(py.exception, py.error).to.equal(2);
    const c = await client(rig.modbusPort);
    try {
      c.setID(2);
      expect(await exceptionOf(c.readInputRegisters(1000, 4)), 'no register there').to.equal(2);
      expect(await exceptionOf(c.readHoldingRegisters(0, 2)), 'the SDM630 has no holding registers mapped').to.equal(2);
      expect(await exceptionOf(c.readInputRegisters(1, 2)), 'half a float').to.equal(2);
      expect(await exceptionOf(c.readInputRegisters(0, 82)), 'beyond the meter\'s 80 per request').to.equal(2);
      expect(await exceptionOf(c.readInputRegisters(0, 126)), 'beyond the Modbus limit').to.equal(3);
      expect(await exceptionOf(c.writeRegister(0, 1)), 'FC6').to.equal(1);
      expect(await exceptionOf(c.writeRegisters(0, [1, 2])), 'FC16').to.equal(1);
      expect(await exceptionOf(c.writeCoil(0, true)), 'FC5').to.equal(1);
      expect(await exceptionOf(c.readCoils(0, 8)), 'FC1').to.equal(1);
      // A read of documented registers still works on the same connection.
      expect((await c.readInputRegisters(0, 2)).data).to.have.length(2);
      c.setID(42);
      expect(await exceptionOf(c.readInputRegisters(0, 2)), 'unknown unit id').to.equal(11);
    } finally {
      c.close(() => {});
    }
    await until('status counts the exceptions', () => {
      const e = rig.details()['exceptions'] ?? {};
      return e['02'] >= 5 && e['01'] >= 4 && e['03'] >= 1 && e['0B'] >= 1;
    }, 5000);
  });

  it('a pushed meter (no bus polls it) is served from readings that arrive over REST; stale or absent values answer 0x0B', async () => {
    expect((await pymodbusRead(rig.modbusPort, 3, 'input', 0, 2)).exception, 'no values yet').to.equal(11);
    const ingestKey = (await rig.host.accounts!.keys.create('inverter', ['ingest'], null)).key;
    const post = async (meter: string, ts: number, values: Record<string, number>) => {
      const res = await fetch(`http://127.0.0.1:${rig.host.http.port}/api/meters/${meter}/power/`, {
        method: 'POST', headers: { 'X-API-Key': ingestKey, 'Content-Type': 'application/json' }, body: JSON.stringify({ timestamp: new Date(ts).toISOString(), values }),
      });
      expect(res.status, await res.text()).to.be.oneOf([200, 201, 202]);
    };
    await post('solar', Date.now(), { voltageL1: 231.5, power: -2480.25 });
    const latest = (await rig.rest('/api/meters/solar/power/latest/')).body.values as Record<string, number>;
    expect(latest).to.deep.equal({ voltageL1: 231.5, power: -2480.25 });
    const read = await pymodbusRead(rig.modbusPort, 3, 'input', 0, 60);
    expect(read.floats![0]).to.equal(latest['voltageL1']);
    expect(read.floats![52 / 2]).to.equal(latest['power']);
    // Registers the pushed readings do not carry are NaN, as a meter sends for a value it lacks.
    expect(read.floats![2 / 2]).to.be.NaN;
    // "shed" is served at unit 9 (the config's units map), but its only reading is an hour old.
    await post('shed', Date.now() - 3600_000, { power: 100 });
    expect((await pymodbusRead(rig.modbusPort, 9, 'input', 12, 2)).exception, 'older than maxAgeSeconds').to.equal(11);
    await post('shed', Date.now(), { power: 150.5 });
    expect((await pymodbusRead(rig.modbusPort, 9, 'input', 12, 2)).floats).to.deep.equal([150.5]);
  });

  it('a meter created over the REST API while the server runs is served under its unit id', async () => {
    const adminKey = (await rig.host.accounts!.keys.create('installer', ['meters:write', 'ingest'], null)).key;
    const api = (path: string, body: unknown) => fetch(`http://127.0.0.1:${rig.host.http.port}${path}`, {
      method: 'POST', headers: { 'X-API-Key': adminKey, 'Content-Type': 'application/json' }, body: JSON.stringify(body),
    });
    expect((await api('/api/meters/', { id: 'wallbox', driver: 'sdm630', bus: 'rs485', unitId: 7, enabled: false })).status).to.equal(201);
    expect((await api('/api/meters/wallbox/power/', { timestamp: new Date().toISOString(), values: { power: 11000.5 } })).status).to.be.oneOf([200, 201, 202]);
    // A second meter right after: its reading comes while the list is being read again (or within the
    // second after), and must not be forgotten until the next periodic read 30 s later.
    expect((await api('/api/meters/', { id: 'heatpump', driver: 'sdm230', bus: 'rs485', unitId: 8, enabled: false })).status).to.equal(201);
    expect((await api('/api/meters/heatpump/power/', { timestamp: new Date().toISOString(), values: { power: 1250.5 } })).status).to.be.oneOf([200, 201, 202]);
    // Their first readings reach the server through the reading pipeline, which makes it read the meter list again.
    const served = (id: string) => (rig.details()['units'] as Array<{ meter: string }> | undefined)?.some((u) => u.meter === id) === true;
    await until('wallbox and heatpump served', () => served('wallbox') && served('heatpump'), 5000);
    expect((await pymodbusRead(rig.modbusPort, 7, 'input', 52, 2)).floats).to.deep.equal([11000.5]);
    expect((await pymodbusRead(rig.modbusPort, 8, 'input', 12, 2)).floats).to.deep.equal([1250.5]);
  });

  it('an offline meter answers 0x0B while the others are served, and is served again once back', async () => {
    rig.sim.unit(2).faults.silent = true;
    try {
      await until('house offline', () => rig.meterState('house') === 'offline', 20000);
      const [house, flat] = await Promise.all([pymodbusRead(rig.modbusPort, 2, 'input', 0, 2), pymodbusRead(rig.modbusPort, 1, 'input', 0, 2)]);
      expect(house.exception, house.error).to.equal(11);
      expect(flat.floats).to.have.length(1);
    } finally {
      rig.sim.unit(2).faults.silent = false;
    }
    await until('house online', () => rig.meterState('house') === 'online', 30000);
    const back = await pymodbusRead(rig.modbusPort, 2, 'input', 0, 2);
    expect(back.floats![0]).to.be.closeTo((await rig.latest('house'))['voltageL1']!, 1e-3);
  });

  it('a client that never reads its answers is disconnected once a megabyte is waiting for it', async () => {
    const { slowReadersDropped: dropsBefore, connections: connectionsBefore } = rig.details() as { slowReadersDropped: number; connections: number };
    const sock = connect({ host: '127.0.0.1', port: rig.modbusPort });
    sock.on('error', () => {});
    await new Promise((r) => sock.once('connect', r));
    sock.pause();
    // 40,000 reads of a full SDM630 block: 6.7 MB of answers, more than the socket buffers hold.
    const request = Buffer.from([0, 1, 0, 0, 0, 6, 2, 4, 0, 0, 0, 80]);
    sock.write(Buffer.concat(Array.from({ length: 40_000 }, () => request)));
    // The paused client cannot see the close; the server's status (published once a second) shows it.
    // On a fast machine the client may be connected and dropped between two publications, so count drops, not clients.
    await until('the server dropped the client', () => rig.details()['slowReadersDropped'] === dropsBefore + 1, 30_000);
    expect(rig.details()['connections']).to.be.greaterThan(connectionsBefore);
    await until('the server let go of the client', () => rig.details()['clients'] === 0, 5000);
    sock.destroy();
    // The server itself carries on.
    expect((await pymodbusRead(rig.modbusPort, 1, 'input', 0, 2)).floats).to.have.length(1);
  });

  it('a client outside the allow-list is disconnected before it is answered', async () => {
    const refusedBefore = rig.details()['refused'] as number;
    // 127.0.0.2 is loopback too, but not on the list.
    const sock = connect({ host: '127.0.0.1', port: rig.modbusPort, localAddress: '127.0.0.2' });
    let received = 0;
    sock.on('data', (d: Buffer) => (received += d.length));
    sock.on('error', () => {});
    sock.on('connect', () => sock.write(Buffer.from([0, 1, 0, 0, 0, 6, 2, 4, 0, 0, 0, 2])));
    await new Promise((r) => sock.once('close', r));
    expect(received).to.equal(0);
    await until('refusal counted', () => (rig.details()['refused'] as number) > refusedBefore, 3000);
    // An allowed client on the same server is answered.
    expect((await pymodbusRead(rig.modbusPort, 1, 'input', 0, 2)).floats).to.have.length(1);
  });
});
