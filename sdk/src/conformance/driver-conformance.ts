import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import semver from 'semver';
import { compileDriver, type CompiledDriver, type CompiledRegister } from '../driver/compiled-driver.js';
import type { DriverDefinition } from '../driver/driver-types.js';
import { validateDriverDefinition } from '../driver/validate-driver.js';
import { describeError, MeterhubError, type ErrorDetail } from '../errors/error-catalog.js';
import { HOST_API_VERSION } from '../plugin/plugin-types.js';
import { pollSimulator } from './simulator-poll.js';

/** One line of the conformance report. */
export interface ConformanceCheck {
  name: string;
  ok: boolean;
  /** What went wrong, each with the JSON path or measurement at fault. */
  problems: Array<{ path: string; message: string }>;
}

/** Everything the kit found about one file or driver package. */
export interface ConformanceReport {
  target: string;
  definitions: Array<{ file: string; id?: string; checks: ConformanceCheck[] }>;
  packageChecks: ConformanceCheck[];
  ok: boolean;
}

export const conformanceCheck = (name: string, problems: ConformanceCheck['problems']): ConformanceCheck => ({ name, ok: problems.length === 0, problems });
const fromDetails = (details: readonly ErrorDetail[]) => details.map((d) => ({ path: d.path || '/', message: d.hint ? `${d.message} (${d.hint})` : d.message }));

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new MeterhubError('METERHUB_ERR_VALIDATION', `${what} ${file} is not valid JSON: ${describeError(err)}`);
  }
}

/** The definition files a path names: a JSON file, or a driver package's `meterhub.definitions`. */
function locate(target: string): { files: string[]; packageChecks: ConformanceCheck[] } {
  const path = resolve(target);
  if (!existsSync(path)) throw new MeterhubError('METERHUB_ERR_VALIDATION', `${target}: no such file or folder`);
  if (!statSync(path).isDirectory()) return { files: [path], packageChecks: [] };
  const pkgFile = join(path, 'package.json');
  if (!existsSync(pkgFile)) throw new MeterhubError('METERHUB_ERR_VALIDATION', `${target}: a driver package needs a package.json`);
  const pkg = readJson(pkgFile, 'the package manifest') as { keywords?: string[]; meterhub?: { kind?: string; hostApi?: string; definitions?: string[] } };
  const problems: ConformanceCheck['problems'] = [];
  if (!pkg.keywords?.includes('meterhub-driver')) problems.push({ path: '/keywords', message: 'must include "meterhub-driver", or the host will not find the package' });
  if (pkg.meterhub?.kind !== 'driver') problems.push({ path: '/meterhub/kind', message: 'must be "driver"' });
  const range = pkg.meterhub?.hostApi;
  if (!range || !semver.validRange(range)) problems.push({ path: '/meterhub/hostApi', message: 'must be a semver range of host API versions, e.g. "^1.0.0"' });
  else if (!semver.satisfies(HOST_API_VERSION, range)) problems.push({ path: '/meterhub/hostApi', message: `"${range}" does not include the host API ${HOST_API_VERSION} of this SDK` });
  const definitions = pkg.meterhub?.definitions ?? [];
  if (definitions.length === 0) problems.push({ path: '/meterhub/definitions', message: 'lists no definition files' });
  const files = definitions.map((rel) => join(path, rel));
  files.forEach((f, i) => {
    if (!existsSync(f)) problems.push({ path: `/meterhub/definitions/${i}`, message: `${definitions[i]} does not exist` });
  });
  return { files: files.filter((f) => existsSync(f)), packageChecks: [conformanceCheck(`package ${join(dirname(pkgFile), 'package.json')}`, problems)] };
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

/** Serves every measurement at a known value from the simulator, polls it once and compares. */
async function pollCheck(driver: CompiledDriver): Promise<ConformanceCheck> {
  const served = new Map(driver.registers.map((reg, i) => [reg.measurement.id, valueFor(reg, i)]));
  const problems = await pollSimulator(driver, served);
  return conformanceCheck(`polled the simulator over Modbus TCP with the host's read plan: ${served.size} measurement(s) decode to the served values`, problems);
}

/**
 * The conformance kit: schema and semantic checks with JSON paths (vocabulary,
 * units, overlaps, ranges, probes), the package manifest when given a folder,
 * then a real poll of the SDK simulator serving each definition. A driver
 * package's `npm test` runs it through `meterhub-driver-test`, and `meterhub
 * driver test` on a host; `ok` is what both turn into their exit status.
 * Throws METERHUB_ERR_VALIDATION when `target` is neither a definition file nor
 * a package folder.
 */
export async function runConformance(target: string): Promise<ConformanceReport> {
  const { files, packageChecks } = locate(target);
  const definitions: ConformanceReport['definitions'] = [];
  for (const file of files) {
    const checks: ConformanceCheck[] = [];
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      checks.push(conformanceCheck('valid JSON', [{ path: '/', message: describeError(err) }]));
      definitions.push({ file, checks });
      continue;
    }
    const problems = validateDriverDefinition(raw);
    checks.push(conformanceCheck('schema, vocabulary, units, overlaps, ranges and probes', fromDetails(problems)));
    const id = (raw as { id?: unknown }).id;
    if (problems.length === 0) checks.push(await pollCheck(compileDriver(raw as DriverDefinition)));
    definitions.push({ file, ...(typeof id === 'string' ? { id } : {}), checks });
  }
  const ok = packageChecks.every((c) => c.ok) && definitions.length > 0 && definitions.every((d) => d.checks.every((c) => c.ok));
  return { target, definitions, packageChecks, ok };
}
