import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  compileDriver, describeError, HOST_API_VERSION, MeterSimulator, SimulatorTcpEndpoint, validateDriverDefinition,
  type CompiledDriver, type CompiledRegister, type DriverDefinition, type ErrorDetail,
} from '@meterhub/sdk';
import semver from 'semver';
import { MeterRuntime } from '../acquisition/meter-runtime.js';
import type { BusLink } from '../acquisition/bus-link.js';

/** One line of the conformance report. */
export interface ConformanceCheck {
  name: string;
  ok: boolean;
  /** What went wrong, each with the JSON path or measurement at fault. */
  problems: Array<{ path: string; message: string }>;
}

export interface ConformanceReport {
  target: string;
  definitions: Array<{ file: string; id?: string; checks: ConformanceCheck[] }>;
  packageChecks: ConformanceCheck[];
  ok: boolean;
}

/** Opens a link to the simulator the kit starts (the CLI passes the real Modbus TCP transport). */
export type LinkFactory = (port: number, driver: CompiledDriver) => BusLink;

const check = (name: string, problems: ConformanceCheck['problems']): ConformanceCheck => ({ name, ok: problems.length === 0, problems });
const fromDetails = (details: readonly ErrorDetail[]) => details.map((d) => ({ path: d.path || '/', message: d.hint ? `${d.message} (${d.hint})` : d.message }));

/** The definition files a path names: a JSON file, or a driver package's `meterhub.definitions`. */
function locate(target: string): { files: string[]; packageChecks: ConformanceCheck[] } {
  const path = resolve(target);
  if (!existsSync(path)) throw new Error(`${target}: no such file or folder`);
  if (!statSync(path).isDirectory()) return { files: [path], packageChecks: [] };
  const pkgFile = join(path, 'package.json');
  if (!existsSync(pkgFile)) throw new Error(`${target}: a driver package needs a package.json`);
  const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { keywords?: string[]; meterhub?: { kind?: string; hostApi?: string; definitions?: string[] } };
  const problems: ConformanceCheck['problems'] = [];
  if (!pkg.keywords?.includes('meterhub-driver')) problems.push({ path: '/keywords', message: 'must include "meterhub-driver", or the host will not find the package' });
  if (pkg.meterhub?.kind !== 'driver') problems.push({ path: '/meterhub/kind', message: 'must be "driver"' });
  const range = pkg.meterhub?.hostApi;
  if (!range || !semver.validRange(range)) problems.push({ path: '/meterhub/hostApi', message: 'must be a semver range of host API versions, e.g. "^1.0.0"' });
  else if (!semver.satisfies(HOST_API_VERSION, range)) problems.push({ path: '/meterhub/hostApi', message: `"${range}" does not include this host's API ${HOST_API_VERSION}` });
  const definitions = pkg.meterhub?.definitions ?? [];
  if (definitions.length === 0) problems.push({ path: '/meterhub/definitions', message: 'lists no definition files' });
  const files = definitions.map((rel) => join(path, rel));
  files.forEach((f, i) => {
    if (!existsSync(f)) problems.push({ path: `/meterhub/definitions/${i}`, message: `${definitions[i]} does not exist` });
  });
  return { files: files.filter((f) => existsSync(f)), packageChecks: [check(`package ${join(dirname(pkgFile), 'package.json')}`, problems)] };
}

/**
 * A value every register can carry exactly and the host accepts as plausible:
 * distinct per register, so a register read from the wrong address shows.
 */
function valueFor(reg: CompiledRegister, i: number): number {
  const integer = !reg.encoding.type.startsWith('float');
  const raw = reg.measurement.unit === '' ? 0.25 + (i % 4) * 0.125 : 10 + (i % 40) + (integer ? 0 : 0.25);
  if (!integer) return raw;
  // Integers carry whole raw steps: pick a whole number of steps in vocabulary units.
  const steps = Math.max(1, Math.round(raw / reg.factor));
  return steps * reg.factor;
}

const close = (a: number, b: number) => Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(a), Math.abs(b));

/**
 * Boots the SDK simulator with the driver, pins every measurement to a known
 * value, polls it once through the host's own planner, bus link and decoders,
 * and compares what came back with what was served.
 */
async function pollCheck(driver: CompiledDriver, openLink: LinkFactory): Promise<ConformanceCheck> {
  const sim = new MeterSimulator();
  const unit = sim.addUnit(1, driver);
  const expected = new Map<string, number>();
  driver.registers.forEach((reg, i) => {
    const v = valueFor(reg, i);
    expected.set(reg.measurement.id, v);
    unit.pin(reg.measurement.id, v);
  });
  const endpoint = new SimulatorTcpEndpoint(sim, { framing: 'mbap' });
  const port = await endpoint.listen();
  const problems: ConformanceCheck['problems'] = [];
  try {
    const link = openLink(port, driver);
    try {
      const meter = new MeterRuntime({
        id: 'conformance', driver: driver.id, bus: 'conformance', unitId: 1, enabled: true, requestMode: 'coalesce', intervals: { instantMs: 1000, counterMs: 1000 },
      }, driver, Date.now());
      const result = await meter.poll(link, ['instant', 'counter']);
      if (!result.ok) problems.push({ path: '/', message: `polling the simulator failed: ${describeError(result.error)}` });
      else {
        for (const [id, want] of expected) {
          const got = result.values[id];
          const reg = driver.byMeasurement.get(id)!;
          const path = `/registers/${driver.registers.indexOf(reg)}`;
          if (got === undefined) problems.push({ path, message: `${id}: no value came back${meter.status.lastInvalid?.measurement === id ? ` (${meter.status.lastInvalid.reason})` : ''}` });
          else if (!close(got, want)) problems.push({ path, message: `${id}: served ${want}, decoded ${got} (check type, word and byte order, scale, unit)` });
        }
      }
    } finally {
      await link.close();
    }
  } finally {
    await endpoint.close();
  }
  return check(`polled through the scheduler: ${expected.size} measurement(s) decode to the served values`, problems);
}

/**
 * The conformance kit: schema and semantic checks with JSON paths (vocabulary,
 * units, overlaps, ranges, probes), the package manifest when given a folder,
 * then a real poll of the SDK simulator serving the definition. `ok` is what
 * `meterhub driver test` turns into its exit status.
 */
export async function runConformance(target: string, openLink: LinkFactory): Promise<ConformanceReport> {
  const { files, packageChecks } = locate(target);
  const definitions: ConformanceReport['definitions'] = [];
  for (const file of files) {
    const checks: ConformanceCheck[] = [];
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      checks.push(check('valid JSON', [{ path: '/', message: describeError(err) }]));
      definitions.push({ file, checks });
      continue;
    }
    const problems = validateDriverDefinition(raw);
    checks.push(check('schema, vocabulary, units, overlaps, ranges and probes', fromDetails(problems)));
    const id = (raw as { id?: string }).id;
    if (problems.length === 0) {
      const driver = compileDriver(raw as DriverDefinition);
      checks.push(await pollCheck(driver, openLink));
    }
    definitions.push({ file, ...(id ? { id } : {}), checks });
  }
  const ok = packageChecks.every((c) => c.ok) && definitions.length > 0 && definitions.every((d) => d.checks.every((c) => c.ok));
  return { target, definitions, packageChecks, ok };
}
