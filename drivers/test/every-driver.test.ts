import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileDriver, getMeasurement, registerCount, unitFactor, validateDriverDefinition, type DriverDefinition } from '@meterhub/sdk';
import { formatConformanceReport, runConformance } from '@meterhub/sdk/conformance';

const repo = fileURLToPath(new URL('../..', import.meta.url));

/** Every driver package in the repo (built-in drivers and example third-party ones) and its definitions. */
function findDefinitions(): { packages: string[]; definitions: Array<{ file: string; def: DriverDefinition }> } {
  const found: Array<{ file: string; def: DriverDefinition }> = [];
  const packages: string[] = [];
  for (const parent of ['drivers', 'examples']) {
    for (const name of readdirSync(join(repo, parent))) {
      const pkgFile = join(repo, parent, name, 'package.json');
      if (!existsSync(pkgFile)) continue;
      const pkg = JSON.parse(readFileSync(pkgFile, 'utf8')) as { meterhub?: { kind: string; definitions?: string[] } };
      if (pkg.meterhub?.kind !== 'driver') continue;
      packages.push(join(parent, name));
      for (const rel of pkg.meterhub.definitions ?? []) {
        const file = join(parent, name, rel);
        found.push({ file, def: JSON.parse(readFileSync(join(repo, file), 'utf8')) as DriverDefinition });
      }
    }
  }
  return { packages, definitions: found };
}

const { packages, definitions } = findDefinitions();

describe('every driver definition', () => {
  it('finds the built-in drivers', () => {
    expect(definitions.map((d) => d.def.id)).to.include.members(['sdm230', 'sdm230-2t', 'sdm630']);
  });

  for (const folder of packages) {
    it(`${folder} passes the conformance kit: manifest, schema, semantics, and a poll of the simulator over Modbus TCP`, async () => {
      const report = await runConformance(join(repo, folder));
      expect(report.ok, formatConformanceReport(report, repo)).to.equal(true);
      expect(report.definitions.length).to.be.greaterThan(0);
      expect(report.definitions.every((d) => d.checks.length === 2), 'every definition was polled').to.equal(true);
    });
  }

  for (const { file, def } of definitions) {
    describe(file, () => {
      it('passes the SDK schema and semantic checks', () => {
        expect(validateDriverDefinition(def)).to.deep.equal([]);
      });

      it('maps only vocabulary measurements, with units that convert', () => {
        for (const r of def.registers) {
          const m = getMeasurement(r.measurement);
          expect(m, r.measurement).to.not.equal(undefined);
          expect(unitFactor(r.unit, m!.unit), `${r.measurement} ${r.unit}`).to.not.equal(undefined);
        }
      });

      it('has no overlapping registers within a function', () => {
        for (const fn of ['input', 'holding'] as const) {
          const spans = def.registers.filter((r) => r.function === fn)
            .map((r) => [r.address, r.address + registerCount(r.type)] as const)
            .sort((a, b) => a[0] - b[0]);
          for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).to.be.at.least(spans[i - 1]![1]);
        }
      });

      it('has probe registers that it maps, with plausible ranges', () => {
        expect(def.probe.length).to.be.greaterThan(0);
        for (const p of def.probe) {
          expect(def.registers.some((r) => r.measurement === p.measurement)).to.equal(true);
          expect(p.min).to.be.lessThan(p.max);
        }
      });

      it('keeps datasheet register numbers consistent with PDU addresses', () => {
        for (const r of def.registers.filter((x) => x.docRegister !== undefined)) {
          const base = r.function === 'input' ? 30001 : 40001;
          expect(r.docRegister! - base, r.measurement).to.equal(r.address);
        }
      });

      it('compiles, and every register fits one request', () => {
        const driver = compileDriver(def);
        expect(driver.registers.length).to.equal(def.registers.length);
        for (const r of driver.registers) expect(r.count).to.be.at.most(def.limits.maxRegistersPerRequest);
      });
    });
  }
});

describe('Eastron drivers against the datasheets', () => {
  const byId = new Map(definitions.map((d) => [d.def.id, d.def]));

  it('SDM630 maps all 86 documented input registers, 80 registers per request', () => {
    const def = byId.get('sdm630')!;
    expect(def.registers.filter((r) => r.function === 'input')).to.have.length(86);
    expect(def.limits.maxRegistersPerRequest).to.equal(80);
    expect(def.registers.every((r) => r.type === 'float32')).to.equal(true);
  });

  it('SDM230 maps its 24 input registers at 60 registers per request; the 2T variant adds 20 tariff registers', () => {
    expect(byId.get('sdm230')!.registers).to.have.length(24);
    expect(byId.get('sdm230')!.limits.maxRegistersPerRequest).to.equal(60);
    const twoT = byId.get('sdm230-2t')!;
    expect(twoT.registers).to.have.length(44);
    expect(twoT.registers.filter((r) => getMeasurement(r.measurement)!.tariff !== null)).to.have.length(20);
  });

  it('converts the SDM230-2T tariff demand from kW to W', () => {
    const reg = compileDriver(byId.get('sdm230-2t')!).byMeasurement.get('importPowerDemandMaxT1')!;
    expect(reg.source.unit).to.equal('kW');
    expect(reg.factor).to.equal(1000);
  });

  it('resolves the old meterlist.json parameter names', () => {
    const sdm230 = compileDriver(byId.get('sdm230')!);
    expect(sdm230.resolve('Voltage')?.measurement.id).to.equal('voltageL1');
    expect(sdm230.resolve('Active Power')?.measurement.id).to.equal('power');
    expect(sdm230.resolve('Import Active Energy')?.measurement.id).to.equal('importEnergy');
    expect(sdm230.resolve('Frequency')?.measurement.id).to.equal('frequency');
    const sdm630 = compileDriver(byId.get('sdm630')!);
    expect(sdm630.resolve('Phase 1 line to neutral volts')?.measurement.id).to.equal('voltageL1');
    expect(sdm630.resolve('l2_current')?.measurement.id).to.equal('currentL2');
    expect(sdm630.resolve('Total Active Power')?.measurement.id).to.equal('power');
    expect(sdm630.resolve('Flux capacitor')).to.equal(undefined);
  });
});
