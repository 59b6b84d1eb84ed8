import { expect } from 'chai';
import { MeterSimulator } from '../../src/index.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';

const T0 = Date.UTC(2026, 0, 15, 10, 0, 0);

describe('simulated meter values', () => {
  it('three-phase: P ≈ V·I·PF and S = V·I per phase; totals are the sums of phases', () => {
    const unit = new MeterSimulator().addUnit(1, builtinDriver('sdm630'), { seed: 7 });
    for (let step = 0; step < 50; step++) {
      const v = unit.snapshot(T0 + step * 1000);
      let sumP = 0;
      for (const ph of ['L1', 'L2', 'L3']) {
        const p = v.get(`power${ph}`)!;
        expect(p).to.be.closeTo(v.get(`voltage${ph}`)! * v.get(`current${ph}`)! * v.get(`powerFactor${ph}`)!, 1e-6);
        expect(v.get(`apparentPower${ph}`)).to.be.closeTo(v.get(`voltage${ph}`)! * v.get(`current${ph}`)!, 1e-6);
        expect(v.get(`voltage${ph}`)).to.be.within(220, 240);
        sumP += p;
      }
      expect(v.get('power')).to.be.closeTo(sumP, 1e-6);
      expect(v.get('currentSum')).to.be.closeTo(v.get('currentL1')! + v.get('currentL2')! + v.get('currentL3')!, 1e-9);
      expect(v.get('importEnergy')).to.be.closeTo(v.get('importEnergyL1')! + v.get('importEnergyL2')! + v.get('importEnergyL3')!, 1e-6);
      expect(v.get('frequency')).to.be.within(49.8, 50.2);
    }
  });

  it('single-phase: the totals are the L1 values', () => {
    const v = new MeterSimulator().addUnit(1, builtinDriver('sdm230')).snapshot(T0);
    expect(v.get('power')).to.equal(v.get('powerL1'));
    expect(v.get('currentL2')).to.equal(0);
  });

  it('energy counters only rise, at the rate the simulated power implies', () => {
    const unit = new MeterSimulator().addUnit(1, builtinDriver('sdm630'), { seed: 3 });
    let prev = unit.snapshot(T0);
    const start = prev.get('importEnergy')!;
    let integral = 0;
    for (let step = 1; step <= 3600; step++) {
      // The counter integrates the power held during the step, i.e. the previous snapshot's.
      integral += (prev.get('power')! * 1) / 3600 / 1000;
      const now = unit.snapshot(T0 + step * 1000);
      expect(now.get('importEnergy')).to.be.at.least(prev.get('importEnergy')!);
      expect(now.get('totalEnergy')).to.be.at.least(prev.get('totalEnergy')!);
      prev = now;
    }
    const delta = prev.get('importEnergy')! - start;
    expect(delta).to.be.greaterThan(0.5); // an hour of kilowatts
    expect(delta).to.be.closeTo(integral, integral * 1e-9);
  });

  it('pinned values are served as pinned, and unpinning returns to the model', () => {
    const unit = new MeterSimulator().addUnit(1, builtinDriver('sdm630'));
    unit.pin('voltageL1', 199.5);
    expect(unit.snapshot(T0).get('voltageL1')).to.equal(199.5);
    unit.unpin('voltageL1');
    expect(unit.snapshot(T0 + 1000).get('voltageL1')).to.be.within(220, 240);
  });

  it('is reproducible for a seed', () => {
    const a = new MeterSimulator().addUnit(1, builtinDriver('sdm630'), { seed: 11 }).snapshot(T0 + 5000);
    const b = new MeterSimulator().addUnit(1, builtinDriver('sdm630'), { seed: 11 }).snapshot(T0 + 5000);
    expect([...a.entries()]).to.deep.equal([...b.entries()]);
  });
});
