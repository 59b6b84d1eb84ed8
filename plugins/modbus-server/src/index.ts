import { MeterhubError, definePlugin } from '@meterhub/sdk';
import { HostSource } from './host-source.js';
import { registerVector } from './register-vector.js';
import { CONFIG_SCHEMA, checkConfig, type ModbusServerConfig } from './server-config.js';
import { UnitTable } from './unit-table.js';

/** How often the meter list is read again, for meters created, changed or removed over the API. */
const REFRESH_MS = 30_000;
/** The soonest a reading from an unknown meter or a request for an unknown unit reads the list again. */
const REFRESH_MIN_GAP_MS = 1000;

/**
 * Serves every meter over Modbus TCP under its driver's own register map,
 * from the latest values in memory, read-only. Lets Home Assistant, evcc or a
 * PLC read a meter whose bus this host owns. Off until `enabled` is true.
 */
export default definePlugin<ModbusServerConfig>((host) => ({
  name: 'Modbus TCP server',
  configSchema: CONFIG_SCHEMA,
  async start(config) {
    if (!config.enabled) {
      host.setStatusDetails({ enabled: false, hint: 'set plugins.modbus-server.config.enabled to true to serve the meters over Modbus TCP' });
      return;
    }
    const { allow } = checkConfig(config);
    const source = new HostSource(host);
    const tableOptions = { units: config.units, onlyListed: config.onlyListed };
    let table = new UnitTable(await source.meters(), (id) => source.driver(id), tableOptions);
    let lastRefresh = Date.now();
    let refreshing = false;
    let stopped = false;
    const warned = new Set<string>();
    const refresh = async () => {
      if (refreshing || stopped) return;
      refreshing = true;
      lastRefresh = Date.now();
      try {
        table = new UnitTable(await source.meters(), (id) => source.driver(id), tableOptions, table);
        warnOnce();
      } catch (err) {
        host.log.warn({ err: String(err) }, 'could not read the meter list; serving the previous one');
      } finally {
        refreshing = false;
      }
    };
    const soon = () => {
      if (Date.now() - lastRefresh >= REFRESH_MIN_GAP_MS) void refresh();
    };
    const warnOnce = () => {
      for (const u of table.unserved) {
        const key = `${u.meter}: ${u.reason}`;
        if (!warned.has(key)) host.log.warn({ meter: u.meter }, `meter "${u.meter}" is not served: ${u.reason}`);
        warned.add(key);
      }
      for (const id of table.unknownInMap) {
        if (!warned.has(id)) host.log.warn({ meter: id }, `plugins.modbus-server.config.units names meter "${id}", which does not exist`);
        warned.add(id);
      }
    };
    warnOnce();

    for (const dispose of source.open((meterId) => {
      if (!table.meterIds.has(meterId)) soon();
    })) host.onStop(dispose);

    const vector = registerVector({ table: () => table, source, maxAgeMs: config.maxAgeSeconds * 1000, onUnknownUnit: soon });
    // Loaded only when enabled: a host that does not serve Modbus never loads the library's server.
    const { TcpListener } = await import('./tcp-listener.js');
    const listener = new TcpListener(vector, { host: config.host, port: config.port, allow, maxClients: config.maxClients }, (err) => {
      host.log.debug({ err: String(err) }, 'client connection error');
    });
    host.onStop(() => listener.close());
    try {
      await listener.ready;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new MeterhubError('METERHUB_ERR_PLUGIN_START', `cannot listen on ${config.host}:${config.port} (${code ?? String(err)})`, {
        details: [{ path: '/plugins/modbus-server/config/port', message: code === 'EADDRINUSE' ? 'the port is in use' : String(err), hint: code === 'EACCES' ? 'ports below 1024 need root or CAP_NET_BIND_SERVICE' : 'choose another port or address' }],
      });
    }

    const report = () => {
      const unserved = table.unserved;
      if (unserved.length > 0) host.setDegraded(`${unserved.length} meter(s) not served: ${unserved.map((u) => u.meter).join(', ')}`);
      else host.setHealthy();
      host.setStatusDetails({
        enabled: true, listening: `${config.host}:${listener.port}`, allowList: config.allow ?? 'any',
        units: table.summary(), ...(unserved.length ? { unserved } : {}), ...(table.unknownInMap.length ? { unknownInUnits: table.unknownInMap } : {}),
        ...listener.figures(),
      });
    };
    const timer = setInterval(() => {
      if (Date.now() - lastRefresh >= REFRESH_MS) void refresh();
      report();
    }, 1000).unref();
    host.onStop(() => {
      stopped = true;
      clearInterval(timer);
    });
    report();
    host.log.info({ host: config.host, port: listener.port, units: table.byUnit.size }, `serving ${table.byUnit.size} meter(s) over Modbus TCP on ${config.host}:${listener.port}`);
  },
}));
