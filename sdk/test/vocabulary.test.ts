import { expect } from 'chai';
import { getMeasurement, isMeasurementId, MEASUREMENTS, unitFactor } from '../src/index.js';

describe('measurement vocabulary', () => {
  it('has camelCase ids with a unit, kind and family each', () => {
    expect(MEASUREMENTS.size).to.be.greaterThan(100);
    for (const m of MEASUREMENTS.values()) {
      expect(m.id).to.match(/^[a-z][A-Za-z0-9]*$/);
      expect(['instant', 'counter']).to.include(m.kind);
      expect(m.family).to.equal(m.kind === 'counter' ? 'energy' : 'power');
      expect(Object.isFrozen(m)).to.equal(true);
    }
  });

  it('derives phase and tariff from the suffixes', () => {
    expect(getMeasurement('voltageL12')).to.include({ phase: 'L1-L2', tariff: null, unit: 'V', quantity: 'voltage' });
    expect(getMeasurement('currentN')).to.include({ phase: 'N', unit: 'A' });
    expect(getMeasurement('importEnergyT2')).to.include({ phase: null, tariff: 'T2', kind: 'counter', unit: 'kWh' });
    expect(getMeasurement('currentDemandMaxL1T1')).to.include({ phase: 'L1', tariff: 'T1' });
    expect(getMeasurement('power')).to.include({ phase: null, kind: 'instant', unit: 'W' });
  });

  it('rejects ids outside the vocabulary', () => {
    expect(isMeasurementId('voltageL4')).to.equal(false);
    expect(isMeasurementId('Voltage')).to.equal(false);
  });

  it('converts prefixed datasheet units and refuses mismatched quantities', () => {
    expect(unitFactor('kW', 'W')).to.equal(1000);
    expect(unitFactor('VAr', 'var')).to.equal(1);
    expect(unitFactor('Wh', 'kWh')).to.equal(0.001);
    expect(unitFactor('kWh', 'W')).to.equal(undefined);
    expect(unitFactor('furlong', 'V')).to.equal(undefined);
  });
});
