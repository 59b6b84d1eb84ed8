import { MeterhubError, definePlugin } from '@meterhub/sdk';
import { HostSource } from './host-source.js';
import { registerVector } from './register-vector.js';
import { configSchema, checkConfig, type ModbusServerConfig } from './server-config.js';
import { UnitDirectory } from './unit-directory.js';

/**
 * Serves every meter over Modbus TCP under its driver's own register map,
 * from the latest values in memory, read-only. Lets Home Assistant, evcc or a
 * PLC read a meter whose bus this host owns. Off until `enabled` is true.
 */
export default definePlugin<ModbusServerConfig>((host) => ({
  name: 'Modbus TCP server',
  configSchema,
  async start(config) {
    if (!config.enabled) {
      host.setStatusDetails({ enabled: false, hint: 'set plugins.modbus-server.config.enabled to true to serve the meters over Modbus TCP' });
      return;
    }
    const { allow } = checkConfig(config);
    const source = new HostSource(host);
    const directory = await UnitDirectory.open(source, { units: config.units, onlyListed: config.onlyListed }, host.log);
    host.onStop(() => directory.close());
    for (const dispose of source.open((meterId) => {
      if (!directory.table.meterIds.has(meterId)) directory.soon();
    })) host.onStop(dispose);

    const vector = registerVector({ table: () => directory.table, source, maxAgeMs: config.maxAgeSeconds * 1000, onUnknownUnit: () => directory.soon() });
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
      const table = directory.table;
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
      directory.tick();
      report();
    }, 1000).unref();
    host.onStop(() => clearInterval(timer));
    report();
    const served = directory.table.byUnit.size;
    host.log.info({ host: config.host, port: listener.port, units: served }, `serving ${served} meter(s) over Modbus TCP on ${config.host}:${listener.port}`);
  },
}));
