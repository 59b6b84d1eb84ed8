import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  HOST_API_VERSION, MeterhubError, type AccountsApi, type BusesApi, type Disposer, type HostApi, type HostSettings, type HttpHandler,
  type MeterRegistryApi, type MeterStateEvent, type PluginLogger, type Reading, type StorageReader, type UpgradeHandler,
} from '@meterhub/sdk';
import type { MeterStateFeed } from '../readings/meter-state-feed.js';
import type { AuthBroker } from './auth-broker.js';
import type { DriverRegistry } from '../drivers/driver-registry.js';
import type { HttpServer } from '../http/http-server.js';
import type { Logger } from '../logging/logger.js';
import type { ReadingPipeline } from '../readings/reading-pipeline.js';
import type { TransportRegistry } from '../acquisition/transport-registry.js';
import type { PluginRecord } from './plugin-record.js';
import type { TariffRegistry } from '../tariffs/tariff-registry.js';

/** What the host lends to every plugin's API. */
export interface HostServices {
  log: Logger;
  dataDir: string;
  /** The one path of every reading. */
  readings: ReadingPipeline;
  meterStates: MeterStateFeed;
  auth: AuthBroker;
  http: HttpServer;
  drivers: DriverRegistry;
  transports: TransportRegistry;
  /** The storage once the host opened it. */
  storage(): StorageReader | undefined;
  /** The meter registry and accounts once storage is open. */
  meters(): MeterRegistryApi | undefined;
  accounts(): AccountsApi | undefined;
  /** The buses' schedulers once acquisition runs. */
  buses(): BusesApi | undefined;
  /** The tariffs of the config file and the database (set once the configuration is valid). */
  tariffs(): TariffRegistry | undefined;
  settings(): HostSettings;
  status(): Record<string, unknown>;
  /** Called when plugin code throws inside a callback; the host marks the plugin failed. */
  onCallbackError(record: PluginRecord, err: unknown): void;
}

/**
 * Runs plugin code from a host callback. A synchronous throw or a rejected
 * promise is charged to the plugin, never to the caller (the bus, a timer, a
 * request), so one broken plugin cannot take down the host.
 */
function guard<A extends unknown[]>(record: PluginRecord, services: HostServices, fn: (...args: A) => unknown): (...args: A) => void {
  return (...args: A) => {
    if (!record.acceptsCallbacks()) return;
    try {
      const result = fn(...args);
      if (result && typeof (result as Promise<unknown>).then === 'function') {
        (result as Promise<unknown>).then(undefined, (err: unknown) => services.onCallbackError(record, err));
      }
    } catch (err) {
      services.onCallbackError(record, err);
    }
  };
}

function ready<T>(value: T | undefined, what: string): T {
  if (!value) throw new MeterhubError('METERHUB_ERR_INTERNAL', `${what} are not available yet: use them from start() on`);
  return value;
}

const openStorage = (services: HostServices) => ready(services.storage(), 'storage');

/**
 * Builds the API for one plugin. Its logger, data folder and status are its
 * own; every registration lands on the plugin's disposer stack so the host can
 * undo it when the plugin stops or fails.
 */
export function createHostApi(record: PluginRecord, services: HostServices): HostApi {
  const log = services.log.child({ plugin: record.id }) as unknown as PluginLogger;
  const tariffs = () => ready(services.tariffs(), 'tariffs');
  const api: HostApi = {
    apiVersion: HOST_API_VERSION,
    pluginId: record.id,
    log,
    async dataDir() {
      const dir = join(services.dataDir, 'plugins', record.id);
      await mkdir(dir, { recursive: true });
      return dir;
    },
    setDegraded(message) {
      record.setDegraded(message);
    },
    setHealthy(message) {
      record.setHealthy(message);
    },
    setStatusDetails(details) {
      record.details = { ...details };
    },
    readings: {
      subscribe(listener: (reading: Reading) => void | Promise<void>): Disposer {
        const off = services.readings.subscribe(guard(record, services, listener));
        return record.disposers.push('readings subscription', off);
      },
      submit: (readings) => services.readings.submit(readings, record.id),
      publish(reading: Reading) {
        services.readings.publish(reading, reading.source ?? record.id);
      },
      latest: (meterId, family) => services.readings.latest.latest(meterId, family),
    },
    meterStates: {
      subscribe(listener: (event: MeterStateEvent) => void): Disposer {
        return record.disposers.push('meter state subscription', services.meterStates.subscribe(guard(record, services, listener)));
      },
      current: () => services.meterStates.current(),
    },
    auth: {
      provide(authenticator) {
        return record.disposers.push('authentication provider', services.auth.provide(record.id, authenticator));
      },
      authenticate: (credentials) => services.auth.authenticate(credentials),
      onCredentialsChanged(listener) {
        return record.disposers.push('credentials change subscription', services.auth.onCredentialsChanged(guard(record, services, listener)));
      },
    },
    drivers: {
      get: (id) => services.drivers.get(id),
      list: () => services.drivers.list(),
    },
    storage: {
      latest: (meterId, family) => services.readings.latest.latest(meterId, family),
      history: (meterId, query) => openStorage(services).history(meterId, query),
      consumption: (meterId, query) => openStorage(services).consumption(meterId, query),
      pages: (meterId, query) => openStorage(services).pages(meterId, query),
      // Facades of readings.submit: one door for every reading.
      ingest: async (reading) => ((await services.readings.submit([reading], record.id)).spooled ? 'spooled' : 'stored'),
      ingestBatch: (readings) => services.readings.submit(readings, record.id),
      ping: () => openStorage(services).ping(),
    },
    tariffs: {
      list: () => tariffs().list(),
      forMeter: (meterId) => tariffs().forMeter(meterId),
      assignments: () => tariffs().assignments(),
      schema: () => tariffs().schema(),
      create: (input) => tariffs().create(input),
      replace: (id, input) => tariffs().replace(id, input),
      addVersion: (id, input) => tariffs().addVersion(id, input),
      remove: (id) => tariffs().remove(id),
      assign: (meterId, tariffId) => tariffs().assign(meterId, tariffId),
      setDefault: (tariffId) => tariffs().setDefault(tariffId),
    },
    meters: {
      schema: () => ready(services.meters(), 'meters').schema(),
      list: () => ready(services.meters(), 'meters').list(),
      get: (id) => ready(services.meters(), 'meters').get(id),
      create: (input) => ready(services.meters(), 'meters').create(input),
      update: (id, input, merge) => ready(services.meters(), 'meters').update(id, input, merge),
      remove: (id) => ready(services.meters(), 'meters').remove(id),
    },
    accounts: {
      get users() {
        return ready(services.accounts(), 'accounts').users;
      },
      get keys() {
        return ready(services.accounts(), 'accounts').keys;
      },
    },
    buses: {
      list: () => services.buses()?.list() ?? [],
      scan: (busId, options) => ready(services.buses(), 'buses').scan(busId, options),
    },
    settings: () => services.settings(),
    status: () => services.status(),
    transports: {
      register(kind, factory) {
        return record.disposers.push(`transport ${kind}`, services.transports.register(kind, factory, record.id));
      },
    },
    http: {
      mount(path: string, handler: HttpHandler): Disposer {
        const guarded: HttpHandler = (req, res, next) => {
          try {
            handler(req, res, next);
          } catch (err) {
            // A throw in one request is that request's 500, not the plugin's end.
            record.noteError(err);
            next(err);
          }
        };
        return record.disposers.push(`http mount ${path}`, services.http.mount(path, guarded, record.id));
      },
      upgrade(path: string, handler: UpgradeHandler): Disposer {
        const guarded: UpgradeHandler = (req, socket, head) => {
          if (!record.acceptsCallbacks()) {
            socket.destroy();
            return;
          }
          try {
            handler(req, socket, head);
          } catch (err) {
            record.noteError(err);
            socket.destroy();
          }
        };
        return record.disposers.push(`http upgrade ${path}`, services.http.upgrade(path, guarded, record.id));
      },
      describe(paths) {
        return record.disposers.push('OpenAPI paths', services.http.describe(paths, record.id));
      },
      described: () => services.http.described(),
      basePath: () => services.http.basePath,
      client: (req) => services.http.client(req),
    },
    onStop(hook: Disposer): Disposer {
      return record.disposers.push('onStop hook', hook);
    },
  };
  return Object.freeze(api);
}
