import { expect } from 'chai';
import { MeterSimulator, SimulatorSerialEndpoint, type Reading } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { createPtyPair, type PtyPair } from '../../../test-support/pty-pair.js';
import { Host } from '../../src/host.js';
import { createLogger } from '../../src/logging/logger.js';
import { AcquisitionRig, meter } from '../helpers/acquisition-rig.js';
import { tempDataDir } from '../helpers/temp-data-dir.js';

describe('acquisition over RTU', function () {
  this.timeout(30000);

  it('polls two meters on a serial line (socat pty pair) through the rtu transport plugin', async () => {
    const pty: PtyPair = await createPtyPair();
    const sim = new MeterSimulator();
    sim.addUnit(1, builtinDriver('sdm630')).pin('voltageL1', 233.25);
    sim.addUnit(7, builtinDriver('sdm230')).pin('power', 2048.5);
    const endpoint = new SimulatorSerialEndpoint(sim, { path: pty.a, baud: 9600 });
    await endpoint.open();
    const dir = tempDataDir();
    const host = new Host({
      config: {
        dataDir: dir.dataDir,
        http: { port: 0 },
        buses: [{ id: 'rs485', transport: 'rtu', path: pty.b, baud: 9600, interRequestDelayMs: 5, responseTimeoutMs: 300 }],
        meters: [meter('three', 1, 'sdm630', { bus: 'rs485' }), meter('single', 7, 'sdm230', { bus: 'rs485' })],
      },
      cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
    });
    const readings: Reading[] = [];
    host.bus.subscribe((r) => readings.push(r));
    try {
      await host.start();
      const deadline = Date.now() + 10000;
      while (!(readings.some((r) => r.meterId === 'three') && readings.some((r) => r.meterId === 'single')) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect(readings.find((r) => r.meterId === 'three')?.values['voltageL1']).to.equal(233.25);
      expect(readings.find((r) => r.meterId === 'single')?.values['power']).to.equal(2048.5);
      expect(Object.keys(readings.find((r) => r.meterId === 'three')!.values)).to.have.length(86);
      const bus = host.status().acquisition.buses[0]!;
      expect(bus.description).to.equal(`rtu ${pty.b} 9600 8N1`);
      expect(bus.errors!.crc).to.equal(0);
    } finally {
      await host.stop();
      await endpoint.close();
      await pty.close();
      dir.cleanup();
    }
  });

  describe('over TCP (transparent gateway)', () => {
    let rig: AcquisitionRig;
    afterEach(async () => rig?.stop());

    it('reads through raw RTU frames, retries corrupted replies, and takes a meter offline on persistent CRC errors', async () => {
      rig = await AcquisitionRig.start({
        framing: 'rtu',
        units: [{ unit: 1, driver: 'sdm230', pins: { voltageL1: 229.5 } }, { unit: 2, driver: 'sdm230' }],
        meters: [meter('a', 1, 'sdm230'), meter('b', 2, 'sdm230')],
      });
      await rig.waitFor('readings from both', () => rig.of('a').length >= 2 && rig.of('b').length >= 2);
      expect(rig.of('a')[0]!.values['voltageL1']).to.equal(229.5);
      rig.sim.unit(2).faults = { corruptCrc: true };
      await rig.waitFor('b offline', () => rig.meterStatus('b').state === 'offline');
      expect(rig.busStatus().errors!.crc).to.be.at.least(2);
      expect(rig.meterStatus('b').lastError?.message).to.include('CRC');
      const a = rig.of('a').length;
      await rig.waitFor('a keeps being read', () => rig.of('a').length >= a + 3);
      rig.sim.unit(2).faults = {};
      await rig.waitFor('b back online', () => rig.meterStatus('b').state === 'online', 10000);
    });
  });

  describe('the wrong TCP mode', () => {
    let rig: AcquisitionRig;
    afterEach(async () => rig?.stop());

    it('Modbus TCP against a transparent RTU gateway times out with advice to use rtu-over-tcp', async () => {
      rig = await AcquisitionRig.start({ framing: 'rtu', units: [{ unit: 1, driver: 'sdm230' }], meters: [meter('a', 1, 'sdm230')], bus: { transport: 'modbus-tcp' } });
      await rig.waitFor('an error', () => rig.meterStatus('a').lastError !== null);
      expect(rig.meterStatus('a').lastError!.message).to.include('use transport "rtu-over-tcp"');
      expect(rig.of('a')).to.have.length(0);
    });

    it('RTU over TCP against a Modbus TCP device suggests modbus-tcp', async () => {
      rig = await AcquisitionRig.start({ framing: 'mbap', units: [{ unit: 1, driver: 'sdm230' }], meters: [meter('a', 1, 'sdm230')], bus: { transport: 'rtu-over-tcp' } });
      await rig.waitFor('an error', () => rig.meterStatus('a').lastError !== null);
      expect(rig.meterStatus('a').lastError!.message).to.include('use transport "modbus-tcp"');
    });
  });
});
