import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  assertDriverDefinition, compileDriver, describeError, isMeterhubError, MeterhubError,
  type CompiledDriver, type ErrorDetail,
} from '@meterhub/sdk';
import type { PackageEntry, PackageOrigin } from '../plugins/manifest.js';

/** A loaded driver and where it came from. */
export interface DriverEntry {
  driver: CompiledDriver;
  file: string;
  packageName: string;
  packageVersion: string;
  origin: PackageOrigin | 'local';
}

/** A definition file that could not be loaded; the host reports it and carries on. */
export interface DriverProblem {
  file: string;
  code: string;
  message: string;
  details: readonly ErrorDetail[];
}

/**
 * Holds every loaded driver. Definition files come from driver packages and from
 * `<dataDir>/drivers/*.json` (for trying a register map before packaging it). An
 * invalid or duplicate file is recorded as a problem and skipped.
 */
export class DriverRegistry {
  readonly #entries = new Map<string, DriverEntry>();
  readonly problems: DriverProblem[] = [];

  get(id: string): CompiledDriver | undefined {
    return this.#entries.get(id)?.driver;
  }

  list(): CompiledDriver[] {
    return [...this.#entries.values()].map((e) => e.driver);
  }

  entries(): DriverEntry[] {
    return [...this.#entries.values()];
  }

  /** Adds a definition object; throws a coded error when it is invalid or its id is taken. */
  add(definition: unknown, source: Omit<DriverEntry, 'driver'>): CompiledDriver {
    const def = assertDriverDefinition(definition, source.file);
    const existing = this.#entries.get(def.id);
    if (existing) {
      throw new MeterhubError('METERHUB_ERR_DRIVER_DUPLICATE', `${source.file}: driver id "${def.id}" is already defined by ${existing.file}`);
    }
    const driver = compileDriver(def);
    this.#entries.set(def.id, { driver, ...source });
    return driver;
  }

  async #loadFile(file: string, source: Omit<DriverEntry, 'driver' | 'file'>): Promise<void> {
    try {
      const parsed: unknown = JSON.parse(await readFile(file, 'utf8'));
      this.add(parsed, { ...source, file });
    } catch (err) {
      this.problems.push({
        file,
        code: isMeterhubError(err) ? err.code : 'METERHUB_ERR_DRIVER_INVALID',
        message: describeError(err),
        details: isMeterhubError(err) ? err.details : [],
      });
    }
  }

  /** Loads the definitions a driver package lists in its manifest. */
  async loadPackage(entry: PackageEntry): Promise<void> {
    for (const rel of entry.manifest.definitions ?? []) {
      await this.#loadFile(join(entry.dir, rel), { packageName: entry.name, packageVersion: entry.version, origin: entry.origin });
    }
  }

  /** Loads loose JSON definitions from a folder (the data dir's `drivers/`). */
  async loadFolder(dir: string): Promise<void> {
    if (!existsSync(dir)) return;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json')).sort();
    for (const f of files) await this.#loadFile(join(dir, f), { packageName: '(local)', packageVersion: '-', origin: 'local' });
  }
}
