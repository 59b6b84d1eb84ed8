/**
 * Ingests readings as fast as it can and prints how many are committed, until
 * it is killed. The crash test kill -9s it mid-batch and checks the database.
 * usage: node --import tsx ingest-child.ts '<settings JSON>'
 */
import { createLogger } from '../../src/logging/logger.js';
import { StorageService, type StorageSettings } from '../../src/storage/storage-service.js';

const settings = JSON.parse(process.argv[2]!) as StorageSettings;
const storage = await StorageService.open(settings, createLogger({ level: 'silent', pretty: false }));
await storage.syncConfigMeters([{ id: 'crash', driver: 'sdm630', bus: 'b', unitId: 1, enabled: true, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 60000 } }]);
const t0 = Date.UTC(2026, 0, 1);
for (let batch = 0; ; batch++) {
  const pending = [];
  for (let i = 0; i < 200; i++) {
    const n = batch * 200 + i;
    pending.push(storage.ingest({ meterId: 'crash', ts: t0 + n * 1000, values: { power: n, voltageL1: 230, importEnergy: n / 1000 } }));
  }
  await Promise.all(pending);
  process.stdout.write(`committed ${(batch + 1) * 200}\n`);
}
