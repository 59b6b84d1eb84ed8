import { createLogger } from '../../src/logging/logger.js';
import type { StorageTarget } from '../../src/storage/knex-factory.js';
import { StorageService, type StorageSettings } from '../../src/storage/storage-service.js';
import { createTestDatabase, type TestDatabase } from '../../../test-support/postgres.js';
import { tempDataDir } from '../helpers/temp-data-dir.js';

export type EngineName = 'sqlite' | 'postgres';
export const ENGINES: readonly EngineName[] = ['sqlite', 'postgres'];

/** A database of the engine for one test (a temp SQLite file, or a fresh PostgreSQL database). */
export class StorageHarness {
  target!: StorageTarget;
  dataDir!: string;
  #db: TestDatabase | undefined;
  #cleanup: (() => void) | undefined;

  static async create(engine: EngineName, label: string, connection?: (db: TestDatabase) => StorageTarget['connection']): Promise<StorageHarness> {
    const h = new StorageHarness();
    const dir = tempDataDir();
    h.dataDir = dir.dataDir;
    h.#cleanup = dir.cleanup;
    if (engine === 'sqlite') {
      h.target = { engine: 'sqlite', filename: `${dir.dataDir}/meterhub.db` };
    } else {
      h.#db = await createTestDatabase(label);
      h.target = { engine: 'postgres', connection: connection ? connection(h.#db) : h.#db.connection };
    }
    return h;
  }

  settings(overrides: Partial<StorageSettings> = {}): StorageSettings {
    return {
      target: this.target,
      dataDir: this.dataDir,
      retention: { rawDays: 30, minuteDays: 365, hourDays: null, dayDays: null },
      ingest: { maxBatch: 500, maxDelayMs: 20, maxPending: 10000 },
      spoolMaxRows: 100000,
      rollupIntervalMs: 60_000,
      ...overrides,
    };
  }

  open(overrides: Partial<StorageSettings> = {}): Promise<StorageService> {
    return StorageService.open(this.settings(overrides), createLogger({ level: 'silent', pretty: false }));
  }

  async dispose(): Promise<void> {
    await this.#db?.drop();
    this.#cleanup?.();
  }
}

export const meterConfig = (id: string) => ({
  id, driver: 'sdm630', bus: 'b', unitId: 1, enabled: true, requestMode: 'coalesce' as const, intervals: { instantMs: 1000, counterMs: 60000 },
});
