import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { MeterhubError } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { Host } from '../../../core/src/host.js';
import { createLogger } from '../../../core/src/logging/logger.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { UnitTable } from '../src/unit-table.js';
import { freePort } from './server-rig.js';

const CLI = fileURLToPath(new URL('../../../packages/meterhub/bin/meterhub.js', import.meta.url));
const run = promisify(execFile);

/** Starts a host with the given plugin entry; resolves to the host, or rejects as `start` does. */
async function withHost<T>(entry: Record<string, unknown>, use: (host: Host) => Promise<T> | T): Promise<T> {
  const dir = tempDataDir();
  const host = new Host({
    config: {
      dataDir: dir.dataDir, http: { port: 0 },
      buses: [{ id: 'b1', transport: 'modbus-tcp', host: '127.0.0.1', port: 1 }],
      meters: [{ id: 'flat', driver: 'sdm230', bus: 'b1', unitId: 1, enabled: false }, { id: 'house', driver: 'sdm630', bus: 'b1', unitId: 2, enabled: false }],
      plugins: { 'modbus-server': entry },
    },
    cwd: dir.root, env: {}, logger: createLogger({ level: 'silent', pretty: false }),
  });
  try {
    await host.start();
    return await use(host);
  } finally {
    await host.stop();
    dir.cleanup();
  }
}

async function startError(config: Record<string, unknown>): Promise<MeterhubError> {
  try {
    await withHost({ required: true, config: { enabled: true, ...config } }, () => undefined);
  } catch (err) {
    return err as MeterhubError;
  }
  throw new Error('the host started');
}

const details = (host: Host) => (host.status().plugins as Array<{ id: string; state: string; message?: string; details?: Record<string, any> }>).find((p) => p.id === 'modbus-server')!;

describe('Modbus TCP server: configuration', function () {
  this.timeout(30000);

  it('is built in and off until enabled, and says how to turn it on', async () => {
    await withHost({}, (host) => {
      const p = details(host);
      expect(p.state).to.equal('running');
      expect(p.details).to.deep.include({ enabled: false });
      expect(p.details!['hint']).to.include('plugins.modbus-server.config.enabled');
    });
  });

  it('meterhub validate names the JSON path of a bad port, unit id or client address type (exit 2)', async () => {
    const dir = tempDataDir();
    try {
      const file = join(dir.root, 'meterhub.json');
      writeFileSync(file, JSON.stringify({ dataDir: dir.dataDir, plugins: { 'modbus-server': { config: { enabled: true, port: 70000, units: { flat: 300 }, allow: [7] } } } }));
      const failed = await run(process.execPath, [CLI, 'validate', '--config', file]).then(() => undefined, (e: { code: number; stderr: string }) => e);
      expect(failed?.code).to.equal(2);
      for (const path of ['/plugins/modbus-server/config/port', '/plugins/modbus-server/config/units/flat', '/plugins/modbus-server/config/allow/0']) {
        expect(failed!.stderr).to.include(path);
      }
    } finally {
      dir.cleanup();
    }
  });

  it('refuses two meters on one unit id and a malformed client address, naming the JSON path of each', async () => {
    const err = await startError({ units: { flat: 5, house: 5 }, allow: ['127.0.0.1', '192.0.2.0/33', 'printer'] });
    const paths = err.details.map((d) => d.path);
    expect(paths).to.include.members([
      '/plugins/modbus-server/config/units/house',
      '/plugins/modbus-server/config/allow/1',
      '/plugins/modbus-server/config/allow/2',
    ]);
    expect(paths).to.not.include('/plugins/modbus-server/config/allow/0');
  });

  it('a port in use fails the plugin with the port named, not the host', async () => {
    const port = await freePort();
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(port, '127.0.0.1', () => r()));
    try {
      await withHost({ config: { enabled: true, port } }, (host) => {
        const p = details(host);
        expect(p.state).to.equal('error');
        expect(p.message ?? JSON.stringify(p)).to.include(`127.0.0.1:${port}`);
      });
    } finally {
      squatter.close();
    }
  });

  it('holds at most maxClients connections; a further client is disconnected at once', async () => {
    const port = await freePort();
    await withHost({ config: { enabled: true, port, maxClients: 2 } }, async (host) => {
      const open = async () => {
        const sock = connect({ host: '127.0.0.1', port });
        sock.on('error', () => {});
        await new Promise((r) => sock.once('connect', r));
        return sock;
      };
      const first = [await open(), await open()];
      const third = await open();
      let closed = false;
      third.once('close', () => (closed = true));
      // Unit 2 is the SDM630 "house" (no values: it is not polled), so the two held clients get 0x0B.
      third.write(Buffer.from([0, 1, 0, 0, 0, 6, 2, 4, 0, 0, 0, 2]));
      const deadline = Date.now() + 5000;
      while (!closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(closed, 'the third client was disconnected').to.equal(true);
      const answer = await new Promise<Buffer>((resolve) => {
        first[0]!.once('data', resolve);
        first[0]!.write(Buffer.from([0, 7, 0, 0, 0, 6, 2, 4, 0, 0, 0, 2]));
      });
      expect([...answer.subarray(7, 9)], 'a held client is still answered').to.deep.equal([0x84, 0x0b]);
      for (const sock of first) sock.destroy();
      // Status figures are published once a second.
      const until = Date.now() + 5000;
      while (details(host).details!['refused'] !== 1 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect(details(host).details!['refused']).to.equal(1);
    });
  });

  describe('unit ids', () => {
    const drivers = (id: string) => (id === 'sdm630' || id === 'sdm230' ? builtinDriver(id) : undefined);
    const meters = [
      { id: 'main', driver: 'sdm630', unitId: 1 },
      { id: 'garage', driver: 'sdm230', unitId: 1 },
      { id: 'pump', driver: 'sdm230', unitId: 2 },
      { id: 'odd', driver: 'acme', unitId: 7 },
    ];

    it('a meter keeps its own unit id when no other has it; a shared one serves neither until the map separates them', () => {
      const shared = new UnitTable(meters, drivers, { units: {}, onlyListed: false });
      expect(shared.summary()).to.deep.equal([{ unitId: 2, meter: 'pump', driver: 'sdm230' }]);
      expect(shared.unserved.map((u) => u.meter)).to.have.members(['main', 'garage', 'odd']);
      expect(shared.unserved.find((u) => u.meter === 'odd')!.reason).to.include('driver "acme"');

      const mapped = new UnitTable(meters, drivers, { units: { garage: 10, odd: false, ghost: 3 }, onlyListed: false });
      expect(mapped.summary().map((s) => [s.unitId, s.meter])).to.deep.equal([[1, 'main'], [2, 'pump'], [10, 'garage']]);
      expect(mapped.unserved).to.deep.equal([]);
      expect(mapped.unknownInMap).to.deep.equal(['ghost']);
    });

    it('an explicit unit id wins over a meter that has it as its own; onlyListed serves the map alone', () => {
      const table = new UnitTable(meters, drivers, { units: { pump: 1 }, onlyListed: false });
      expect(table.byUnit.get(1)!.meterId).to.equal('pump');
      expect(table.unserved.map((u) => u.meter)).to.include.members(['main', 'garage']);
      const listed = new UnitTable(meters, drivers, { units: { garage: 4 }, onlyListed: true });
      expect(listed.summary().map((s) => s.meter)).to.deep.equal(['garage']);
    });

    it('a meter without a unit id of its own (pushed, no bus) is served only under one from the map', () => {
      const pushed = [...meters, { id: 'inverter', driver: 'sdm630' }];
      expect(new UnitTable(pushed, drivers, { units: {}, onlyListed: false }).unserved.find((u) => u.meter === 'inverter')!.reason).to.include('no unit id');
      expect(new UnitTable(pushed, drivers, { units: { inverter: 20 }, onlyListed: false }).byUnit.get(20)!.meterId).to.equal('inverter');
    });
  });
});
