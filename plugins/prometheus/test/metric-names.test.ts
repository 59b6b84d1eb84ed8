import { expect } from 'chai';
import { MEASUREMENTS } from '@meterhub/sdk';
import { METRIC_BY_MEASUREMENT, STEMS } from '../src/metric-names.js';
import { promtoolCheck } from './prometheus-helpers.js';

describe('prometheus: metric names of the vocabulary', () => {
  it('maps every measurement to a valid name, counters with _total, and never two measurements to one series', () => {
    expect(METRIC_BY_MEASUREMENT.size).to.equal(MEASUREMENTS.size);
    // Every quantity has a chosen name (a new one would fall back to its snake_case id).
    expect([...new Set([...MEASUREMENTS.values()].map((m) => m.quantity))].filter((q) => !STEMS[q])).to.deep.equal([]);
    const series = new Set<string>();
    const byName = new Map<string, { help: string; type: string }>();
    for (const [id, m] of METRIC_BY_MEASUREMENT) {
      expect(m.name, id).to.match(/^meterhub_[a-z][a-z0-9_]*[a-z]$/);
      expect(m.name.endsWith('_total'), id).to.equal(m.type === 'counter');
      expect(m.type, id).to.equal(MEASUREMENTS.get(id)!.kind === 'counter' ? 'counter' : 'gauge');
      const key = `${m.name}{${m.phase ?? ''},${m.tariff ?? ''}}`;
      expect(series.has(key), `${id} collides on ${key}`).to.equal(false);
      series.add(key);
      // One HELP and one TYPE per metric name, whichever measurement comes first.
      const seen = byName.get(m.name);
      if (seen) expect({ help: m.help, type: m.type }, id).to.deep.equal(seen);
      else byName.set(m.name, { help: m.help, type: m.type });
    }
  });

  it('uses base units: joules for kWh, ratio for percent and power factor, volts and amperes', () => {
    const of = (id: string) => METRIC_BY_MEASUREMENT.get(id)!;
    expect(of('importEnergy')).to.include({ name: 'meterhub_energy_import_joules_total', type: 'counter', factor: 3_600_000 });
    expect(of('importEnergyT2')).to.include({ name: 'meterhub_tariff_energy_import_joules_total', tariff: 'T2' });
    expect(of('importEnergyL1')).to.include({ name: 'meterhub_phase_energy_import_joules_total', phase: 'L1' });
    expect(of('voltageL1')).to.include({ name: 'meterhub_voltage_volts', phase: 'L1', factor: 1 });
    expect(of('voltageL12')).to.include({ name: 'meterhub_line_voltage_volts', phase: 'L1-L2' });
    expect(of('currentN')).to.include({ name: 'meterhub_current_amperes', phase: 'N' });
    expect(of('power')).to.include({ name: 'meterhub_power_watts', type: 'gauge' });
    expect(of('power')).to.not.have.property('phase');
    expect(of('powerL3')).to.include({ name: 'meterhub_phase_power_watts', phase: 'L3' });
    expect(of('powerFactor')).to.include({ name: 'meterhub_power_factor_ratio', factor: 1 });
    expect(of('voltageThdL1')).to.include({ name: 'meterhub_voltage_thd_ratio', factor: 0.01 });
    expect(of('frequency')).to.include({ name: 'meterhub_frequency_hertz' });
    expect(of('charge')).to.include({ name: 'meterhub_charge_coulombs_total', factor: 3600 });
  });

  it('passes promtool\'s lint for every name of the vocabulary', () => {
    const lines: string[] = [];
    const done = new Set<string>();
    for (const m of METRIC_BY_MEASUREMENT.values()) {
      if (done.has(m.name)) continue;
      done.add(m.name);
      lines.push(`# HELP ${m.name} ${m.help}`, `# TYPE ${m.name} ${m.type}`, `${m.name}{meter="m"} 1`);
    }
    const check = promtoolCheck(`${lines.join('\n')}\n`);
    expect(check.output).to.equal('');
    expect(check.status).to.equal(0);
  });
});
