import { BlockList, isIP } from 'node:net';
import { MeterhubError, type ErrorDetail } from '@meterhub/sdk';
import type { UnitMap } from './unit-table.js';

export interface ModbusServerConfig {
  enabled: boolean;
  host: string;
  port: number;
  units: UnitMap;
  onlyListed: boolean;
  allow?: string[];
  maxClients: number;
  maxAgeSeconds: number;
}

/** JSON Schema of `plugins.modbus-server.config`; the defaults live here only. */
export const configSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    enabled: { type: 'boolean', default: false, description: 'Serve the meters over Modbus TCP. Off until set to true.' },
    host: { type: 'string', minLength: 1, default: '127.0.0.1', description: 'Address to listen on; 0.0.0.0 (or ::) serves the local network: then set "allow".' },
    port: { type: 'integer', minimum: 1, maximum: 65535, default: 5502, description: 'TCP port. 502, the Modbus default, needs root or CAP_NET_BIND_SERVICE.' },
    units: {
      type: 'object', default: {},
      additionalProperties: { anyOf: [{ type: 'integer', minimum: 1, maximum: 255 }, { const: false }] },
      description: 'Meter id -> unit id on this server, or false to leave a meter off it. Meters not listed keep their own unit id when no other meter has it.',
    },
    onlyListed: { type: 'boolean', default: false, description: 'Serve only the meters listed in "units".' },
    allow: {
      type: 'array', minItems: 1, items: { type: 'string', minLength: 1 },
      description: 'Client addresses or CIDR ranges (192.0.2.10, 192.0.2.0/24, fd00::/8) allowed to connect; others are disconnected at once. Absent: any client that can reach the port.',
    },
    maxClients: { type: 'integer', minimum: 1, default: 64, description: 'Connections held at once; further ones are disconnected.' },
    maxAgeSeconds: { type: 'number', minimum: 0, default: 300, description: 'Values older than this answer 0x0B instead of being served (0: no limit).' },
  },
} as const;

const PATH = '/plugins/modbus-server/config';

/** Checks what the schema cannot: distinct unit ids and well-formed client addresses. Throws with every problem's JSON path. */
export function checkConfig(config: ModbusServerConfig): { allow: BlockList | undefined } {
  const problems: ErrorDetail[] = [];
  const owners = new Map<number, string>();
  for (const [meter, unit] of Object.entries(config.units)) {
    if (unit === false) continue;
    const other = owners.get(unit);
    if (other !== undefined) problems.push({ path: `${PATH}/units/${meter}`, message: `unit id ${unit} is already meter "${other}"'s`, hint: 'every served meter needs its own unit id' });
    else owners.set(unit, meter);
  }
  let allow: BlockList | undefined;
  if (config.allow) {
    allow = new BlockList();
    config.allow.forEach((entry, i) => {
      const [address, bits, extra] = entry.split('/');
      const family = isIP(address ?? '');
      const prefix = bits === undefined ? undefined : Number(bits);
      const max = family === 4 ? 32 : 128;
      if (family === 0 || extra !== undefined || (prefix !== undefined && !(Number.isInteger(prefix) && prefix >= 0 && prefix <= max && bits !== ''))) {
        problems.push({ path: `${PATH}/allow/${i}`, message: `"${entry}" is not an IP address or CIDR range`, hint: 'e.g. 192.0.2.10, 192.0.2.0/24 or fd00::/8' });
        return;
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (prefix === undefined) allow!.addAddress(address!, type);
      else allow!.addSubnet(address!, prefix, type);
    });
  }
  if (problems.length > 0) {
    throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', `invalid config for plugin modbus-server: ${problems.map((p) => `${p.path} ${p.message}`).join('; ')}`, { details: problems });
  }
  return { allow };
}
