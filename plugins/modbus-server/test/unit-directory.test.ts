import { expect } from 'chai';
import type { PluginLogger } from '@meterhub/sdk';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import type { HostSource, SourceMeter } from '../src/host-source.js';
import { UnitDirectory } from '../src/unit-directory.js';
import { until } from './server-rig.js';

/** A meter list whose reads take as long as the test says, so a request can land in the middle of one. */
function slowSource(meters: SourceMeter[], readMs: number): HostSource {
  const driver = builtinDriver('sdm630');
  return {
    meters: async () => {
      const snapshot = [...meters];
      await new Promise((r) => setTimeout(r, readMs));
      return snapshot;
    },
    driver: () => driver,
  } as unknown as HostSource;
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} } as unknown as PluginLogger;

describe('Modbus TCP server: the unit directory', () => {
  it('a meter that appears while the list is being read is served after it, not 30 s later', async () => {
    const meters: SourceMeter[] = [{ id: 'house', driver: 'sdm630', unitId: 1 }];
    const directory = await UnitDirectory.open(slowSource(meters, 200), { units: {}, onlyListed: false }, quiet);
    try {
      // The first open read happened just now: this request falls within the minimum gap and must wait, not vanish.
      meters.push({ id: 'wallbox', driver: 'sdm630', unitId: 7 });
      directory.soon();
      await until('wallbox served', () => directory.table.meterIds.has('wallbox'), 3000);
      // Now one read is running (it took its snapshot without the new meter) when the next meter appears and asks again.
      await new Promise((r) => setTimeout(r, 1000));
      directory.soon();
      meters.push({ id: 'heatpump', driver: 'sdm630', unitId: 8 });
      directory.soon();
      expect(directory.table.meterIds.has('heatpump')).to.equal(false);
      await until('heatpump served', () => directory.table.meterIds.has('heatpump'), 3000);
      expect([...directory.table.byUnit.keys()].sort()).to.deep.equal([1, 7, 8]);
    } finally {
      directory.close();
    }
  });

  it('asks for the list once per gap however many requests come, and nothing after close', async () => {
    let reads = 0;
    const source = { meters: async () => (reads++, []), driver: () => undefined } as unknown as HostSource;
    const directory = await UnitDirectory.open(source, { units: {}, onlyListed: false }, quiet);
    for (let i = 0; i < 50; i++) directory.soon();
    await until('one more read', () => reads === 2, 3000);
    await new Promise((r) => setTimeout(r, 300));
    expect(reads).to.equal(2);
    directory.soon();
    directory.close();
    await new Promise((r) => setTimeout(r, 1200));
    expect(reads).to.equal(2);
  });
});
