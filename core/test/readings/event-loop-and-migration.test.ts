import { expect } from 'chai';
import { EventLoopWatch } from '../../src/diagnostics/event-loop-watch.js';
import type { Logger } from '../../src/logging/logger.js';
import { MeterRegistry } from '../../src/meters/meter-registry.js';
import { StorageHarness } from '../storage/storage-harness.js';

describe('event-loop watch', () => {
  it('reports the delay and logs a warning when a task holds the loop over 100 ms', async () => {
    const warnings: unknown[] = [];
    const log = { warn: (obj: unknown) => warnings.push(obj) } as unknown as Logger;
    const watch = new EventLoopWatch(log, 10_000, 100);
    try {
      await new Promise((r) => setTimeout(r, 50));
      const t = Date.now();
      while (Date.now() - t < 180);
      const deadline = Date.now() + 3000;
      while (warnings.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(warnings).to.have.length.greaterThan(0);
      expect((warnings[0] as { eventLoopDelayMs: number }).eventLoopDelayMs).to.be.greaterThan(100);
      expect(watch.current().worstMs).to.be.greaterThan(100);
    } finally {
      watch.close();
    }
  });
});

describe('meters an older uplink made on a placeholder bus', () => {
  it('become pushed meters at start when their bus is not in the config', async () => {
    const h = await StorageHarness.create('sqlite', 'placeholder');
    const s = await h.open();
    try {
      await s.meters.insert({ id: 'garage', driver: 'sdm230', bus: 'remote', unitId: 3, enabled: false, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 60000 } }, 'api');
      await s.meters.insert({ id: 'kept', driver: 'sdm230', bus: 'rs485', unitId: 1, enabled: true, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 60000 } }, 'api');
      const applied: string[][] = [];
      const registry = new MeterRegistry(s, [{ id: 'rs485', transport: 'modbus-tcp', host: '127.0.0.1', port: 1, afterConnectDelayMs: 0, retries: 1 }], { get: () => undefined }, async (m) => {
        applied.push(m.map((x) => x.id));
      });
      expect(await registry.migratePlaceholderBuses()).to.deep.equal(['garage']);
      const garage = await registry.get('garage');
      expect(garage).to.include({ driver: 'sdm230', enabled: true });
      expect(garage).to.not.have.property('bus');
      expect(garage).to.not.have.property('unitId');
      expect(await registry.get('kept')).to.include({ bus: 'rs485', unitId: 1 });
    } finally {
      await s.close();
      await h.dispose();
    }
  });
});
