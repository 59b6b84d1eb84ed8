import {
  ajvErrorsToDetails, compileSchema, deepFreeze, didYouMean, MeterhubError,
  type CompiledDriver, type ErrorDetail,
} from '@meterhub/sdk';
import { composeSchema, type SchemaContribution } from './compose-schema.js';
import type { HostConfig } from './host-config.js';
import { tariffProblems } from '../tariffs/tariff-check.js';
import { basePathProblems, trustProxyProblems } from '../http/request-client.js';

export interface ValidationInput {
  raw: Record<string, unknown>;
  drivers: readonly CompiledDriver[];
  plugins: readonly SchemaContribution[];
  /** JSON path → environment variable that set it, for hints. */
  envSources?: ReadonlyMap<string, string>;
}

export interface ValidationResult {
  config: Readonly<HostConfig>;
  /** Problems inside single plugins' configs, keyed by plugin id. */
  pluginProblems: ReadonlyMap<string, ErrorDetail[]>;
}

function withEnvHints(details: ErrorDetail[], sources?: ReadonlyMap<string, string>): ErrorDetail[] {
  if (!sources) return details;
  return details.map((d) => {
    // The variable set this value or a list or object above it (`/http/trustProxy/0` from METERHUB_TRUST_PROXY).
    const env = [...sources].find(([path]) => d.path === path || d.path.startsWith(`${path}/`))?.[1];
    return env ? { ...d, hint: [d.hint, `set by environment variable ${env}`].filter(Boolean).join('; ') } : d;
  });
}

/** Cross-references a schema cannot check: unique ids, known buses, measurements the driver offers, tariffs, proxy addresses. */
function referenceProblems(config: HostConfig, drivers: readonly CompiledDriver[]): ErrorDetail[] {
  const problems: ErrorDetail[] = [...trustProxyProblems(config.http.trustProxy), ...basePathProblems(config.http.basePath)];
  const busIds = new Set<string>();
  config.buses.forEach((b, i) => {
    if (busIds.has(b.id)) problems.push({ path: `/buses/${i}/id`, message: `bus id "${b.id}" is used twice` });
    busIds.add(b.id);
  });
  const meterIds = new Set<string>();
  const units = new Map<string, number>();
  config.meters.forEach((m, i) => {
    const path = `/meters/${i}`;
    if (meterIds.has(m.id)) problems.push({ path: `${path}/id`, message: `meter id "${m.id}" is used twice` });
    meterIds.add(m.id);
    if (m.bus !== undefined) {
      if (!busIds.has(m.bus)) {
        problems.push({ path: `${path}/bus`, message: `no bus "${m.bus}"`, hint: busIds.size ? `buses: ${[...busIds].join(', ')}` : 'declare it under "buses", or leave "bus" out for a pushed meter' });
      }
      const unitKey = `${m.bus}#${m.unitId}`;
      const other = units.get(unitKey);
      if (other !== undefined) problems.push({ path: `${path}/unitId`, message: `unit id ${m.unitId} on bus "${m.bus}" is already used by /meters/${other}` });
      else units.set(unitKey, i);
    }
    const driver = drivers.find((d) => d.id === m.driver);
    (m.measurements ?? []).forEach((name, j) => {
      if (driver && driver.resolveAll(name).length === 0) {
        const hint = [didYouMean(name, driver.names), '`meterhub drivers --show ' + driver.id + '` lists them'].filter(Boolean).join('; ');
        problems.push({ path: `${path}/measurements/${j}`, message: `"${name}" is not a measurement of driver ${driver.id}`, hint });
      }
    });
  });
  problems.push(...tariffProblems(config.tariffs));
  return problems;
}

/**
 * Validates a raw configuration against the composed schema, fills defaults,
 * canonicalises meter measurement names to vocabulary ids and freezes the
 * result. Host-level problems throw `METERHUB_ERR_CONFIG_INVALID` with every
 * problem and its JSON path; problems inside one plugin's config are returned
 * per plugin so the host can isolate that plugin.
 */
export function validateConfig(input: ValidationInput): ValidationResult {
  const config = structuredClone(input.raw);
  const driverIds = input.drivers.map((d) => d.id);
  // verbose: errors carry the offending value, for "did you mean" hints.
  const options = { verbose: true };
  const validateHost = compileSchema(composeSchema(driverIds, input.plugins, true), options);
  const problems: ErrorDetail[] = validateHost(config) ? [] : ajvErrorsToDetails(validateHost.errors);
  if (problems.length === 0) problems.push(...referenceProblems(config as unknown as HostConfig, input.drivers));
  for (const p of problems) {
    if (/^\/plugins\/[^/]+$/.test(p.path) && p.message === 'is not a known property') {
      const loaded = input.plugins.map((c) => c.id);
      p.message = 'is not a loaded plugin';
      p.hint = [didYouMean(p.path.slice('/plugins/'.length), loaded), `loaded: ${loaded.join(', ') || 'none'}; install it into <dataDir>/node_modules or list it in pluginPackages`].filter(Boolean).join('; ');
    }
  }
  if (problems.length > 0) {
    throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', `The configuration has ${problems.length} problem(s)`, {
      details: withEnvHints(problems, input.envSources),
    });
  }

  const hostConfig = config as unknown as HostConfig;
  const pluginProblems = new Map<string, ErrorDetail[]>();
  for (const p of input.plugins) {
    const entry = hostConfig.plugins[p.id] ?? (hostConfig.plugins[p.id] = { enabled: true, required: false, config: {} });
    if (!p.schema) continue;
    const validatePlugin = compileSchema(p.schema, options);
    if (!validatePlugin(entry.config)) pluginProblems.set(p.id, withEnvHints(ajvErrorsToDetails(validatePlugin.errors, `/plugins/${p.id}/config`), input.envSources));
  }

  for (const m of hostConfig.meters) {
    // `source` only says how the meter was declared; whether it has a bus is what counts from here on.
    delete (m as { source?: string }).source;
    const driver = input.drivers.find((d) => d.id === m.driver);
    if (driver && m.measurements) m.measurements = [...new Set(m.measurements.flatMap((n) => driver.resolveAll(n).map((r) => r.measurement.id)))];
  }
  return { config: deepFreeze(hostConfig), pluginProblems };
}

/** The full composed schema, for `meterhub config schema` and editors. */
export function publishedSchema(drivers: readonly CompiledDriver[], plugins: readonly SchemaContribution[]): Record<string, unknown> {
  return composeSchema(drivers.map((d) => d.id), plugins, false);
}
