import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MeterCounts } from './import-counts.js';

/** Where an import stands: the source's own position marker and the counts so far. */
export interface Checkpoint {
  source: string;
  /** Source-specific (SQL: last committed time per table; CSV: rows consumed). */
  position: Record<string, unknown>;
  counts: Record<string, MeterCounts>;
  updatedAt: string;
  done?: boolean;
}

/**
 * One checkpoint file per source under `<dataDir>/import/`, named by a hash of
 * the source's identity (a URL without its password, a file path): a re-run of
 * the same import continues where the last one stopped. Written after each
 * committed batch with write-then-rename, so a crash leaves the old or the new
 * file, never half of one.
 */
export class CheckpointFile {
  readonly path: string;

  constructor(dataDir: string, readonly source: string) {
    const dir = join(dataDir, 'import');
    mkdirSync(dir, { recursive: true });
    this.path = join(dir, `${createHash('sha256').update(source).digest('hex').slice(0, 16)}.json`);
  }

  load(): Checkpoint | undefined {
    try {
      const c = JSON.parse(readFileSync(this.path, 'utf8')) as Checkpoint;
      return c.source === this.source ? c : undefined;
    } catch {
      return undefined;
    }
  }

  save(position: Record<string, unknown>, counts: Record<string, MeterCounts>, done = false): void {
    const c: Checkpoint = { source: this.source, position, counts, updatedAt: new Date().toISOString(), ...(done ? { done } : {}) };
    writeFileSync(`${this.path}.tmp`, JSON.stringify(c, null, 1));
    renameSync(`${this.path}.tmp`, this.path);
  }

  clear(): void {
    rmSync(this.path, { force: true });
  }
}
