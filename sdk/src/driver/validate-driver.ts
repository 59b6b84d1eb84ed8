import type { ValidateFunction } from 'ajv';
import { registerCount } from '../codec/register-codec.js';
import type { ErrorDetail } from '../errors/error-catalog.js';
import { MeterhubError } from '../errors/error-catalog.js';
import { ajvErrorsToDetails, loadSdkSchema } from '../schema/ajv-factory.js';
import { compileSchema } from '../schema/validator-cache.js';
import { getMeasurement } from '../vocabulary/measurements.js';
import { unitFactor } from '../vocabulary/units.js';
import type { DriverDefinition, RegisterFunction } from './driver-types.js';

/** The driver JSON Schema the SDK ships (`@meterhub/sdk/schemas/driver.schema.json`). */
export const DRIVER_SCHEMA: Readonly<Record<string, unknown>> = Object.freeze(loadSdkSchema('driver.schema.json'));

let compiled: ValidateFunction | undefined;
function schemaValidator(): ValidateFunction {
  // Drivers are data: no defaults are injected, the file must say everything.
  compiled ??= compileSchema(DRIVER_SCHEMA, { useDefaults: false });
  return compiled;
}

interface Span {
  start: number;
  end: number;
  path: string;
  label: string;
}

function overlapProblems(spans: Span[]): ErrorDetail[] {
  const sorted = [...spans].sort((a, b) => a.start - b.start);
  const problems: ErrorDetail[] = [];
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1]!;
    const cur = sorted[i]!;
    if (cur.start < prev.end) {
      problems.push({ path: cur.path, message: `${cur.label} overlaps ${prev.label} (${prev.path})` });
    }
  }
  return problems;
}

/** Checks that a schema cannot express: vocabulary, units, overlaps, alignment, probes. */
function semanticProblems(def: DriverDefinition): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const seen = new Map<string, number>();
  const spans: Record<RegisterFunction, Span[]> = { input: [], holding: [] };
  const { alignment, maxRegistersPerRequest } = def.limits;

  def.registers.forEach((reg, i) => {
    const path = `/registers/${i}`;
    const m = getMeasurement(reg.measurement);
    if (!m) {
      problems.push({ path: `${path}/measurement`, message: `"${reg.measurement}" is not in the measurement vocabulary`, hint: 'run `meterhub drivers --vocabulary` for the list' });
    } else if (unitFactor(reg.unit, m.unit) === undefined) {
      problems.push({ path: `${path}/unit`, message: `unit "${reg.unit}" does not convert to ${m.id}'s unit "${m.unit}"` });
    }
    const dup = seen.get(reg.measurement);
    if (dup !== undefined) problems.push({ path: `${path}/measurement`, message: `"${reg.measurement}" is already mapped by /registers/${dup}` });
    else seen.set(reg.measurement, i);
    const words = registerCount(reg.type);
    if (reg.address + words > 0x10000) problems.push({ path: `${path}/address`, message: 'register runs past address 65535' });
    if (reg.address % alignment !== 0) problems.push({ path: `${path}/address`, message: `address ${reg.address} is not a multiple of the driver's alignment ${alignment}` });
    if (words > maxRegistersPerRequest) problems.push({ path: `${path}/type`, message: `${reg.type} needs ${words} registers, more than maxRegistersPerRequest` });
    spans[reg.function].push({ start: reg.address, end: reg.address + words, path, label: reg.measurement });
  });

  const configNames = new Set<string>();
  (def.configRegisters ?? []).forEach((reg, i) => {
    const path = `/configRegisters/${i}`;
    if (configNames.has(reg.name)) problems.push({ path: `${path}/name`, message: `"${reg.name}" is defined twice` });
    configNames.add(reg.name);
    spans.holding.push({ start: reg.address, end: reg.address + registerCount(reg.type), path, label: reg.name });
  });

  problems.push(...overlapProblems(spans.input), ...overlapProblems(spans.holding));

  def.probe.forEach((p, i) => {
    if (!seen.has(p.measurement)) problems.push({ path: `/probe/${i}/measurement`, message: `probe measurement "${p.measurement}" is not mapped by this driver` });
    if (p.min > p.max) problems.push({ path: `/probe/${i}`, message: 'min is greater than max' });
  });
  return problems;
}

/**
 * Validates a driver definition against the SDK schema and the semantic rules.
 * Returns every problem with its JSON path; an empty list means valid. The host
 * calls it for every driver it loads, the conformance kit and tests call it too.
 */
export function validateDriverDefinition(input: unknown): ErrorDetail[] {
  const validate = schemaValidator();
  if (!validate(input)) return ajvErrorsToDetails(validate.errors);
  return semanticProblems(input as DriverDefinition);
}

/**
 * Validates and returns a deep-frozen definition, or throws
 * `METERHUB_ERR_DRIVER_INVALID` listing every problem. `source` names the file
 * in the message.
 */
export function assertDriverDefinition(input: unknown, source = 'driver'): DriverDefinition {
  const problems = validateDriverDefinition(input);
  if (problems.length > 0) {
    throw new MeterhubError('METERHUB_ERR_DRIVER_INVALID', `${source}: ${problems.length} problem(s) in the driver definition`, { details: problems });
  }
  return deepFreeze(structuredClone(input) as DriverDefinition);
}

/** Freezes an object graph so that shared definitions and configs cannot be mutated by a plugin. */
export function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
