import { ajvErrorsToDetails, compileSchema, MeterhubError, type ErrorDetail, type TariffView } from '@meterhub/sdk';
import type { ValidateFunction } from 'ajv';
import type { Logger } from '../logging/logger.js';
import type { StoredAssignments, TariffRepository } from '../storage/tariff-repository.js';
import { tariffDefinitionProblems, versionProblems } from './tariff-check.js';
import { TariffBook, type TariffPlan } from './tariff-plan.js';
import { TARIFF_SCHEMA, TARIFF_VERSION_SCHEMA, TARIFFS_SECTION_SCHEMA, type TariffConfig, type TariffsConfig, type TariffVersionConfig } from './tariff-schema.js';

/** What the registry needs of storage: its tariff rows, whether a meter exists, and where pricing reads the tariffs. */
export interface TariffStorage {
  readonly tariffs: TariffRepository;
  meterExists(id: string): Promise<boolean>;
  useTariffs(book: TariffBook): void;
}

// Compiled on first use (from the validator cache): `meterhub validate` imports this module and never checks a tariff body.
const validators = new Map<object, ValidateFunction>();

function invalid(what: string, details: ErrorDetail[]): MeterhubError {
  return new MeterhubError('METERHUB_ERR_VALIDATION', `the ${what} is not valid`, { details });
}

/** Checks input with a part of the config file's schema (defaults filled in), then with the config file's own further checks. */
function checked<T>(what: string, schema: object, rules: (value: T, path: string) => ErrorDetail[], input: unknown): T {
  let validate = validators.get(schema);
  if (!validate) validators.set(schema, (validate = compileSchema(schema as Record<string, unknown>)));
  const value = structuredClone(input);
  if (!validate(value)) throw invalid(what, ajvErrorsToDetails(validate.errors));
  const problems = rules(value as T, '');
  if (problems.length) throw invalid(what, problems);
  return value as T;
}

const checkedTariff = (input: unknown) => checked<TariffConfig>('tariff', TARIFF_SCHEMA, tariffDefinitionProblems, input);
const checkedVersion = (input: unknown) => checked<TariffVersionConfig>('price period', TARIFF_VERSION_SCHEMA, versionProblems, input);

/**
 * Every tariff the host prices with: those of the config file (read-only, as
 * the file's meters are) and those made over the API, stored in the database.
 * Assignments merge the same way, the file's winning. Each change is stored,
 * then the book pricing reads is rebuilt at once, so the next consumption
 * answer follows it. Changes run one at a time.
 */
export class TariffRegistry {
  #book: TariffBook;
  #stored: { list: TariffConfig[]; assignments: StoredAssignments } = { list: [], assignments: { meters: {} } };
  #storage: TariffStorage | undefined;
  #queue: Promise<unknown> = Promise.resolve();

  /** `configFile` is named in the 409 a change of the file's tariffs answers. */
  constructor(private readonly config: Readonly<TariffsConfig>, private readonly configFile: string | undefined, private readonly log?: Logger) {
    this.#book = new TariffBook(config);
  }

  /** The tariffs pricing reads now. */
  get book(): TariffBook {
    return this.#book;
  }

  /** Loads the stored tariffs and assignments and hands pricing the merged book (at start, once storage is open). */
  async attach(storage: TariffStorage): Promise<void> {
    this.#storage = storage;
    await this.#reload();
    const shadowed = this.#stored.list.filter((t) => this.#isConfig(t.id)).map((t) => t.id);
    if (shadowed.length) this.log?.warn({ tariffs: shadowed }, 'tariffs made over the API have the id of a tariff in the config file; the file\'s are used');
    const dangling = Object.entries(this.#book.assignments).filter(([, t]) => !this.#book.get(t)).map(([m]) => m);
    const dflt = this.#book.defaultId;
    if (dflt !== undefined && !this.#book.get(dflt)) dangling.push('(default)');
    if (dangling.length) this.log?.warn({ meters: dangling }, 'meters are assigned a tariff that no longer exists; they have no cost until assigned another');
  }

  /** The config file's `tariffs` section schema: the one a tariff, a price period and an assignment are checked with. */
  schema(): Record<string, unknown> {
    return structuredClone(TARIFFS_SECTION_SCHEMA) as unknown as Record<string, unknown>;
  }

  view(plan: TariffPlan): TariffView {
    return { ...plan.view(), source: this.#isConfig(plan.id) ? 'config' : 'api' };
  }

  list(): TariffView[] {
    return this.#book.list().map((p) => this.view(p));
  }

  /** The tariff a meter pays: its own assignment, else the default. */
  forMeter(meterId: string): TariffView | undefined {
    const plan = this.#book.forMeter(meterId);
    return plan && this.view(plan);
  }

  assignments(): { default?: string; meters: Record<string, string> } {
    const book = this.#book;
    return { ...(book.defaultId !== undefined ? { default: book.defaultId } : {}), meters: { ...book.assignments } };
  }

  /** Stores a new tariff. */
  async create(input: unknown): Promise<TariffView> {
    const t = checkedTariff(input);
    return this.#serial(async () => {
      if (this.#isConfig(t.id)) throw this.#readOnly(`tariff "${t.id}" is declared in`);
      if (!(await this.#repo().tariffs.insert(t))) throw new MeterhubError('METERHUB_ERR_CONFLICT', `tariff "${t.id}" exists; replace it with PUT /api/tariffs/${t.id}/`);
      return this.#changed(t.id);
    });
  }

  /** Replaces a stored tariff whole (its id stays). */
  async replace(id: string, input: Record<string, unknown>): Promise<TariffView> {
    return this.#serial(async () => {
      await this.#editable(id);
      if (input['id'] !== undefined && input['id'] !== id) throw invalid('tariff', [{ path: '/id', message: 'the id of a tariff cannot change' }]);
      const t = checkedTariff({ ...input, id });
      await this.#repo().tariffs.replace(t);
      return this.#changed(id);
    });
  }

  /** Adds a price period: from its validFrom on, its prices apply; earlier days keep theirs. */
  async addVersion(id: string, input: unknown): Promise<TariffView> {
    return this.#serial(async () => {
      const t = await this.#editable(id);
      const v = checkedVersion(input);
      if (t.versions.some((x) => x.validFrom === v.validFrom)) {
        throw new MeterhubError('METERHUB_ERR_CONFLICT', `tariff "${id}" has prices from ${v.validFrom}; replace the tariff (PUT /api/tariffs/${id}/) to change them`);
      }
      t.versions = [...t.versions, v].sort((a, b) => (a.validFrom < b.validFrom ? -1 : 1));
      await this.#repo().tariffs.replace(t);
      return this.#changed(id);
    });
  }

  /** Deletes a stored tariff no meter is assigned to. */
  async remove(id: string): Promise<void> {
    return this.#serial(async () => {
      await this.#editable(id);
      const { meters, default: dflt } = this.#stored.assignments;
      const users = Object.entries(meters).filter(([, t]) => t === id).map(([m]) => `"${m}"`);
      if (users.length || dflt === id) {
        const who = [users.length ? `meter${users.length > 1 ? 's' : ''} ${users.join(', ')}` : '', dflt === id ? 'the default' : ''].filter(Boolean).join(' and ');
        throw new MeterhubError('METERHUB_ERR_CONFLICT', `tariff "${id}" is assigned to ${who}; assign another tariff first`);
      }
      await this.#repo().tariffs.remove(id);
      await this.#reload();
    });
  }

  /** Sets the tariff a meter pays (null: back to the default). Problems with the tariff are reported at `/tariff`. */
  async assign(meterId: string, tariffId: string | null): Promise<void> {
    return this.#serial(async () => {
      if (!(await this.#repo().meterExists(meterId))) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no meter "${meterId}"`);
      if (this.config.meters[meterId] !== undefined) throw this.#readOnly(`the tariff of meter "${meterId}" is set under tariffs.meters in`);
      this.#known(tariffId, '/tariff');
      await this.#repo().tariffs.assign(meterId, tariffId);
      await this.#reload();
    });
  }

  /** Sets the tariff of every meter without one of its own (null: none). Problems are reported at `/default`. */
  async setDefault(tariffId: string | null): Promise<void> {
    return this.#serial(async () => {
      if (this.config.default !== undefined) throw this.#readOnly('the default tariff is set under tariffs.default in');
      this.#known(tariffId, '/default');
      await this.#repo().tariffs.assign(undefined, tariffId);
      await this.#reload();
    });
  }

  /** Forgets a deleted meter's assignment, so a meter made later with its id does not inherit it. */
  async meterRemoved(meterId: string): Promise<void> {
    return this.#serial(async () => {
      if (this.#stored.assignments.meters[meterId] === undefined) return;
      await this.#repo().tariffs.assign(meterId, null);
      await this.#reload();
    });
  }

  #isConfig(id: string): boolean {
    return this.config.list.some((t) => t.id === id);
  }

  #readOnly(what: string): MeterhubError {
    const file = this.configFile ? `the config file ${this.configFile}` : 'the configuration';
    return new MeterhubError('METERHUB_ERR_CONFLICT', `${what} ${file}; edit the file and restart to change it`);
  }

  #known(tariffId: string | null, path: string): void {
    if (tariffId === null || this.#book.get(tariffId)) return;
    const ids = this.#book.list().map((p) => p.id);
    throw invalid('assignment', [{ path, message: `no tariff "${tariffId}"`, hint: ids.length ? `tariffs: ${ids.join(', ')}` : 'create one with POST /api/tariffs/' }]);
  }

  async #editable(id: string): Promise<TariffConfig> {
    if (this.#isConfig(id)) throw this.#readOnly(`tariff "${id}" is declared in`);
    const t = await this.#repo().tariffs.get(id);
    if (!t) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', `no tariff "${id}"`);
    return t;
  }

  async #changed(id: string): Promise<TariffView> {
    await this.#reload();
    return this.view(this.#book.get(id)!);
  }

  #repo(): TariffStorage {
    if (!this.#storage) throw new MeterhubError('METERHUB_ERR_INTERNAL', 'tariffs cannot change before storage is open');
    return this.#storage;
  }

  async #reload(): Promise<void> {
    const storage = this.#repo();
    this.#stored = { list: await storage.tariffs.list(), assignments: await storage.tariffs.assignments() };
    const list = [...this.config.list, ...this.#stored.list.filter((t) => !this.#isConfig(t.id))];
    const dflt = this.config.default ?? this.#stored.assignments.default;
    this.#book = new TariffBook({ list, ...(dflt !== undefined ? { default: dflt } : {}), meters: { ...this.#stored.assignments.meters, ...this.config.meters } });
    storage.useTariffs(this.#book);
  }

  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(fn);
    this.#queue = run.catch(() => undefined);
    return run;
  }
}
