import { expect } from 'chai';
import { assertDriverDefinition, isMeterhubError, validateDriverDefinition, type DriverDefinition } from '../src/index.js';

function base(): DriverDefinition {
  return {
    id: 'test-meter',
    vendor: 'Test',
    model: 'T1',
    datasheets: ['https://example.org/t1.pdf'],
    defaults: { unitId: 1, baud: 9600, parity: 'none', dataBits: 8, stopBits: 1, wordOrder: 'high-first', byteOrder: 'big' },
    limits: { maxRegistersPerRequest: 80, alignment: 2, gaps: 'zero-fill' },
    timing: { interRequestDelayMs: 60, unitSwitchDelayMs: 40, responseTimeoutMs: 500 },
    registers: [
      { measurement: 'voltageL1', function: 'input', address: 0, type: 'float32', unit: 'V' },
      { measurement: 'frequency', function: 'input', address: 70, type: 'float32', unit: 'Hz' },
    ],
    probe: [{ measurement: 'voltageL1', min: 90, max: 270 }],
  };
}

const paths = (def: unknown) => validateDriverDefinition(def).map((p) => `${p.path} ${p.message}`);

describe('driver definition checks', () => {
  it('accepts a minimal valid definition', () => {
    expect(validateDriverDefinition(base())).to.deep.equal([]);
  });

  it('names the JSON path of schema errors', () => {
    const def = base() as unknown as Record<string, unknown>;
    delete def['probe'];
    (def['registers'] as Array<Record<string, unknown>>)[1]!['type'] = 'float33';
    expect(paths(def)).to.include.members(['/probe is required']);
    expect(paths(def).some((p) => p.startsWith('/registers/1/type'))).to.equal(true);
  });

  it('reports unknown measurements and units that do not convert', () => {
    const def = base();
    def.registers[0]!.measurement = 'voltageL9';
    def.registers[1]!.unit = 'kWh';
    const p = paths(def);
    expect(p.some((x) => x.startsWith('/registers/0/measurement') && x.includes('vocabulary'))).to.equal(true);
    expect(p.some((x) => x.startsWith('/registers/1/unit'))).to.equal(true);
  });

  it('reports overlapping registers, duplicates and misalignment', () => {
    const def = base();
    def.registers.push({ measurement: 'currentL1', function: 'input', address: 1, type: 'float32', unit: 'A' });
    def.registers.push({ measurement: 'frequency', function: 'input', address: 100, type: 'float32', unit: 'Hz' });
    const p = paths(def);
    expect(p.some((x) => x.includes('overlaps'))).to.equal(true);
    expect(p.some((x) => x.includes('not a multiple'))).to.equal(true);
    expect(p.some((x) => x.includes('already mapped'))).to.equal(true);
  });

  it('requires probe measurements to be mapped', () => {
    const def = base();
    def.probe = [{ measurement: 'currentL1', min: 0, max: 100 }];
    expect(paths(def)).to.deep.equal(['/probe/0/measurement probe measurement "currentL1" is not mapped by this driver']);
  });

  it('throws a coded error listing every problem, and freezes valid definitions', () => {
    const def = base();
    def.registers[0]!.measurement = 'nope';
    try {
      assertDriverDefinition(def, 'x.json');
      expect.fail('should throw');
    } catch (err) {
      expect(isMeterhubError(err, 'METERHUB_ERR_DRIVER_INVALID')).to.equal(true);
      expect((err as { details: Array<{ path: string }> }).details.map((d) => d.path)).to.include('/registers/0/measurement');
    }
    const frozen = assertDriverDefinition(base());
    expect(Object.isFrozen(frozen.registers[0])).to.equal(true);
  });
});
