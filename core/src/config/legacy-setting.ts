import { didYouMean, MeterhubError, normalizeName, type CompiledDriver, type ErrorDetail } from '@meterhub/sdk';

/**
 * The old Python logger's `setting.json`:
 * `{Logger_ID, Device_IP, Device_Port, Troubleshoot, meterlist: [{name, id, model, paramlist}]}`.
 */
export interface LegacySetting {
  Logger_ID?: string | number;
  Device_IP?: string;
  Device_Port?: number | string;
  Troubleshoot?: boolean | number | string;
  meterlist?: Array<{ name?: string; id?: number | string; model?: string; paramlist?: string[] }>;
}

/** True when a parsed JSON file looks like the old logger's setting.json rather than a meterhub.json. */
export function isLegacySetting(raw: unknown): raw is LegacySetting {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) return false;
  const o = raw as Record<string, unknown>;
  return 'meterlist' in o || 'Logger_ID' in o || 'Device_IP' in o;
}

const slug = (s: string): string => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 64);

/** Finds the driver for an old `model` string such as "SDM630" or "sdm230-modbus". */
function findDriver(model: string, drivers: readonly CompiledDriver[]): CompiledDriver | undefined {
  const wanted = normalizeName(model);
  return drivers.find((d) => normalizeName(d.id) === wanted)
    ?? drivers.find((d) => normalizeName(d.definition.model) === wanted)
    ?? drivers.find((d) => wanted.startsWith(normalizeName(d.id)) && normalizeName(d.id).length >= 4);
}

export interface LegacyConversionOptions {
  /** Transport the old gateway spoke; the old logger used Modbus TCP. */
  transport?: 'modbus-tcp' | 'rtu-over-tcp';
  /** The file's name as the user knows it, for messages (default `setting.json`). */
  file?: string;
}

export interface LegacyConversion {
  /** The equivalent meterhub.json object. */
  config: Record<string, unknown>;
  /** Parameters left out because no register of the meter's driver matches them, with suggestions. */
  skipped: ErrorDetail[];
}

/**
 * Converts a setting.json into the equivalent meterhub.json object. Parameter
 * names are resolved through the drivers' legacy names and written as
 * vocabulary ids; a per-phase name on a three-phase meter ("Voltage") takes
 * every phase. What cannot be imported at all (no gateway address, a model
 * without a driver, a bad unit id) throws with every path; parameters that
 * match nothing are skipped and returned with the closest names, so one
 * unknown name does not stop the whole import.
 */
export function convertLegacySetting(
  legacy: LegacySetting,
  drivers: readonly CompiledDriver[],
  options: LegacyConversionOptions = {},
): LegacyConversion {
  const file = options.file ?? 'setting.json';
  const problems: ErrorDetail[] = [];
  const skipped: ErrorDetail[] = [];
  if (!legacy.Device_IP) problems.push({ path: '/Device_IP', message: 'is required' });
  const port = Number(legacy.Device_Port ?? 502);
  if (!Number.isInteger(port) || port < 1 || port > 65535) problems.push({ path: '/Device_Port', message: 'must be a TCP port number' });
  const usedIds = new Set<string>();
  const meters = (legacy.meterlist ?? []).map((m, i) => {
    const path = `/meterlist/${i}`;
    const unitId = Number(m.id);
    if (!Number.isInteger(unitId) || unitId < 1 || unitId > 247) problems.push({ path: `${path}/id`, message: 'must be a Modbus unit id from 1 to 247' });
    const driver = m.model ? findDriver(m.model, drivers) : undefined;
    if (!driver) {
      const known = drivers.map((d) => d.id);
      const hint = [didYouMean(m.model ?? '', [...known, ...drivers.map((d) => d.definition.model)]), `known: ${known.join(', ')}`].filter(Boolean).join('; ');
      problems.push({ path: `${path}/model`, message: `no driver for model "${m.model ?? ''}"`, hint });
    }
    const measurements = (m.paramlist ?? []).flatMap((name, j) => {
      const regs = driver?.resolveAll(name) ?? [];
      if (driver && regs.length === 0) {
        const hint = [didYouMean(name, driver.names), `\`meterhub drivers --show ${driver.id}\` lists them`].filter(Boolean).join('; ');
        skipped.push({ path: `${path}/paramlist/${j}`, message: `"${name}" is not a parameter of ${driver.id}; left out`, hint });
      }
      return regs.map((r) => r.measurement.id);
    });
    let id = slug(m.name ?? '') || `meter-${unitId}`;
    while (usedIds.has(id)) id = `${id}-${unitId}`;
    usedIds.add(id);
    return {
      id,
      name: m.name ?? id,
      driver: driver?.id ?? String(m.model ?? ''),
      bus: 'gateway',
      unitId,
      ...(measurements.length > 0 ? { measurements: [...new Set(measurements)] } : {}),
    };
  });
  if (problems.length > 0) {
    throw new MeterhubError('METERHUB_ERR_LEGACY_SETTING', `${file}: ${problems.length} problem(s)`, { details: problems });
  }
  const troubleshoot = legacy.Troubleshoot === true || legacy.Troubleshoot === 1 || /^(true|1|yes)$/i.test(String(legacy.Troubleshoot ?? ''));
  const config = {
    ...(legacy.Logger_ID !== undefined ? { name: String(legacy.Logger_ID) } : {}),
    log: { level: troubleshoot ? 'debug' : 'info' },
    buses: [{ id: 'gateway', transport: options.transport ?? 'modbus-tcp', host: legacy.Device_IP, port }],
    meters,
  };
  return { config, skipped };
}
