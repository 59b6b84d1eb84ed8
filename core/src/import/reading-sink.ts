import type { Reading } from '@meterhub/sdk';
import type { StorageService } from '../storage/storage-service.js';

/** A meter an import needs, as the source knows it. */
export interface ImportedMeter {
  key: string;
  name?: string;
  /** A loaded driver id, when the source says which model the meter was. */
  driver?: string;
}

/**
 * Where imported readings go. The only module of the importer that talks to
 * the host's storage, so the reading pipeline's entry points replace these
 * two calls in one place.
 */
export interface ReadingSink {
  /** Creates the meter when the database does not have it; true when it was created. */
  ensureMeter(meter: ImportedMeter): Promise<boolean>;
  /** Stores readings (idempotent on meter and time: a row that exists is merged); resolves once committed. */
  write(readings: readonly Reading[]): Promise<number>;
}

/**
 * Imported readings through the storage ingest path (`ingestBatch`: the
 * queue's batching, upsert on (meter, ts), rollups marked dirty). The backlog is
 * not re-published live: `ingestBatch` stores without publishing.
 *
 * A created meter is a pushed meter (no bus, so no bus worker polls it) that
 * holds history and may take readings pushed to it later.
 */
export class StorageSink implements ReadingSink {
  constructor(private readonly storage: StorageService) {}

  async ensureMeter(meter: ImportedMeter): Promise<boolean> {
    if ((await this.storage.refOf(meter.key)) !== undefined) return false;
    await this.storage.meters.insert({
      id: meter.key, ...(meter.name ? { name: meter.name } : {}), ...(meter.driver ? { driver: meter.driver } : {}), enabled: true,
      intervals: { instantMs: 1000, counterMs: 60000 }, requestMode: 'coalesce',
    }, 'api');
    return true;
  }

  async write(readings: readonly Reading[]): Promise<number> {
    if (readings.length === 0) return 0;
    const { stored, spooled } = await this.storage.ingestBatch(readings);
    return stored + spooled;
  }
}

/** `--dry-run`: meters and readings are counted, nothing is written. */
export class DryRunSink implements ReadingSink {
  readonly created = new Set<string>();

  constructor(private readonly exists: (key: string) => Promise<boolean>) {}

  async ensureMeter(meter: ImportedMeter): Promise<boolean> {
    if (this.created.has(meter.key) || (await this.exists(meter.key))) return false;
    this.created.add(meter.key);
    return true;
  }

  async write(readings: readonly Reading[]): Promise<number> {
    return readings.length;
  }
}
