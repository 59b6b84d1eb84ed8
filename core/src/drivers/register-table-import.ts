import {
  getMeasurement, MEASUREMENTS, normalizeName, REGISTER_TYPES, validateDriverDefinition,
  type DriverDefinition, type ErrorDetail, type RegisterDefinition, type RegisterType,
} from '@meterhub/sdk';

/** RFC 4180 fields: quoted fields may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const header = text.split(/\r?\n/, 1)[0] ?? '';
  const delimiter = header.includes(';') && !header.includes(',') ? ';' : ',';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === delimiter) {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((f) => f.trim() !== ''));
}

const TYPE_ALIASES: Record<string, RegisterType> = {
  float: 'float32', real: 'float32', f32: 'float32', float32: 'float32', double: 'float64', f64: 'float64', float64: 'float64',
  int: 'int16', s16: 'int16', u16: 'uint16', word: 'uint16', s32: 'int32', u32: 'uint32', long: 'int32', s64: 'int64', u64: 'uint64',
};

/** Vocabulary ids and labels by their normalized spelling ("Voltage L1" and "voltage_l1" meet). */
const BY_NAME = new Map<string, string>();
for (const m of MEASUREMENTS.values()) {
  BY_NAME.set(normalizeName(m.id), m.id);
  BY_NAME.set(normalizeName(m.label), m.id);
}

export interface ImportOptions {
  id: string;
  vendor: string;
  model: string;
  /** Where the register table comes from; a driver cites its datasheet. */
  datasheet: string;
}

/**
 * Turns a register table transcribed from a datasheet (CSV with a header row:
 * `name, address, type, unit`, optionally `measurement`, `function`, `scale`,
 * `wordOrder`, `byteOrder`) into a driver definition. Addresses may be 0-based
 * PDU addresses or datasheet register numbers (30001 = input 0, 40001 =
 * holding 0). Problems come back with the CSV line and column at fault.
 */
export function importRegisterTable(csv: string, opts: ImportOptions): { definition: DriverDefinition; problems: ErrorDetail[] } {
  const rows = parseCsv(csv);
  const problems: ErrorDetail[] = [];
  const header = (rows.shift() ?? []).map((h) => normalizeName(h));
  const col = (name: string) => header.indexOf(normalizeName(name));
  for (const required of ['name', 'address', 'type', 'unit']) {
    if (col(required) < 0) problems.push({ path: '/header', message: `the header has no "${required}" column (found: ${header.join(', ') || 'nothing'})` });
  }
  const registers: RegisterDefinition[] = [];
  if (problems.length === 0) {
    rows.forEach((row, r) => {
      const line = r + 2;
      const get = (name: string) => (col(name) >= 0 ? (row[col(name)] ?? '').trim() : '');
      const at = (name: string) => `/line/${line}/${name}`;
      const name = get('name');
      // Single-phase tables say "Voltage" where the vocabulary has voltageL1.
      const measurement = get('measurement') || BY_NAME.get(normalizeName(name)) || BY_NAME.get(`${normalizeName(name)}l1`) || '';
      if (!measurement) {
        problems.push({ path: at('measurement'), message: `"${name}" matches no vocabulary measurement: add a measurement column with the id (\`meterhub drivers --vocabulary\` lists them)` });
        return;
      }
      if (!getMeasurement(measurement)) problems.push({ path: at('measurement'), message: `"${measurement}" is not in the measurement vocabulary` });
      const text = get('address');
      const rawAddress = /^0x[0-9a-f]+$/i.test(text) ? Number.parseInt(text, 16) : /^\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isInteger(rawAddress) || rawAddress < 0) {
        problems.push({ path: at('address'), message: `"${get('address')}" is not a register address` });
        return;
      }
      let fn = (get('function').toLowerCase() || 'input') as 'input' | 'holding';
      let address = rawAddress;
      let docRegister: number | undefined;
      if (rawAddress >= 30001 && rawAddress <= 39999) [fn, address, docRegister] = ['input', rawAddress - 30001, rawAddress];
      else if (rawAddress >= 40001 && rawAddress <= 49999) [fn, address, docRegister] = ['holding', rawAddress - 40001, rawAddress];
      if (fn !== 'input' && fn !== 'holding') problems.push({ path: at('function'), message: 'must be input or holding' });
      const typeText = get('type').toLowerCase();
      const type = (REGISTER_TYPES as readonly string[]).includes(typeText) ? (typeText as RegisterType) : TYPE_ALIASES[typeText];
      if (!type) {
        problems.push({ path: at('type'), message: `"${get('type')}" is not a register type (${REGISTER_TYPES.join(', ')})` });
        return;
      }
      const scale = get('scale') ? Number(get('scale')) : undefined;
      if (scale !== undefined && !(scale > 0)) problems.push({ path: at('scale'), message: 'must be a positive number' });
      const reg: RegisterDefinition = {
        measurement, function: fn, address, type, unit: get('unit'),
        ...(scale !== undefined && scale !== 1 ? { scale } : {}),
        ...(get('wordOrder') ? { wordOrder: get('wordOrder') as RegisterDefinition['wordOrder'] } : {}),
        ...(get('byteOrder') ? { byteOrder: get('byteOrder') as RegisterDefinition['byteOrder'] } : {}),
        ...(docRegister ? { docRegister } : {}),
        ...(name && name !== measurement ? { legacyNames: [name] } : {}),
      };
      registers.push(reg);
    });
  }
  const probe = registers.filter((r) => r.measurement === 'voltageL1' || r.measurement === 'frequency')
    .map((r) => (r.measurement === 'frequency' ? { measurement: r.measurement, min: 45, max: 65 } : { measurement: r.measurement, min: 90, max: 270 }));
  const definition = {
    id: opts.id, vendor: opts.vendor, model: opts.model,
    description: `${opts.vendor} ${opts.model}, imported from a register table`,
    datasheets: [opts.datasheet],
    defaults: { unitId: 1, baud: 9600, parity: 'none', dataBits: 8, stopBits: 1, wordOrder: 'high-first', byteOrder: 'big' },
    limits: { maxRegistersPerRequest: 40, alignment: 1, gaps: 'exception' },
    timing: { interRequestDelayMs: 60, unitSwitchDelayMs: 40, responseTimeoutMs: 500 },
    registers,
    probe: probe.length ? probe : registers.slice(0, 1).map((r) => ({ measurement: r.measurement, min: -1e9, max: 1e9 })),
  } as unknown as DriverDefinition;
  if (problems.length === 0) problems.push(...validateDriverDefinition(definition));
  return { definition, problems };
}
