import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import {
  float32Decimal, float32Resolution, getMeasurement, LEGACY_API_FIELDS, legacyApiFieldMeasurement, parseTimestamp, roundToStep, wallTimeToEpoch,
} from '../src/index.js';

describe('readings: float32 numbers, times in a zone, the old API\'s fields', () => {
  it('gives the shortest decimal that reads back as the same float32', () => {
    for (const text of ['230.3873', '0.1', '49.98', '12345.67', '-0.35', '1e-7', '3.4028235e+38']) {
      const f = Math.fround(Number(text));
      expect(float32Decimal(f)).to.equal(Number(text));
      expect(Math.fround(float32Decimal(f))).to.equal(f);
    }
    // Values float32 cannot hold are doubles: unchanged.
    expect(float32Decimal(123456.789012)).to.equal(123456.789012);
    expect(float32Decimal(950)).to.equal(950);
    // Over runs of neighbouring float32s: always round-trips, and no shorter decimal does.
    const shortest = (f: number) => {
      for (let p = 1; p <= 9; p++) if (Math.fround(Number(f.toPrecision(p))) === f) return Number(f.toPrecision(p));
      return Number.NaN;
    };
    const buf = new DataView(new ArrayBuffer(4));
    for (const start of [230.3873, 0.001, 1.0, 7.999, 49.98, 1e6, 123456.7]) {
      buf.setFloat32(0, start);
      const base = buf.getUint32(0);
      for (let i = 0; i < 1000; i++) {
        buf.setUint32(0, base + i);
        const f = buf.getFloat32(0);
        expect(float32Decimal(f)).to.equal(shortest(f));
      }
    }
  });

  it('rounds sums to what a float32 counter resolves at its magnitude', () => {
    expect(float32Resolution(12345.67)).to.equal(0.001);
    expect(float32Resolution(99_999)).to.equal(0.01);
    expect(float32Resolution(12.9)).to.equal(0.000001);
    expect(roundToStep(12.910000000000764, 0.001)).to.equal(12.91);
    expect(String(roundToStep(0.1 + 0.2, 0.000001))).to.equal('0.3');
  });

  it('reads times without an offset in the given zone; date-only bounds are local midnights', () => {
    expect(parseTimestamp('2026-11-01', 'Europe/Berlin')).to.equal(Date.parse('2026-10-31T23:00:00Z'));
    expect(parseTimestamp('2026-07-01', 'Europe/Berlin')).to.equal(Date.parse('2026-06-30T22:00:00Z'));
    expect(parseTimestamp('2026-11-01')).to.equal(Date.parse('2026-11-01T00:00:00Z'));
    expect(parseTimestamp('2026-11-01T06:30', 'America/New_York')).to.equal(Date.parse('2026-11-01T11:30:00Z'));
    expect(parseTimestamp('2026-11-01T06:30:00+01:00', 'America/New_York')).to.equal(Date.parse('2026-11-01T05:30:00Z'));
    expect(parseTimestamp('2026-02-31', 'Europe/Berlin')).to.equal(undefined);
    expect(parseTimestamp('2026-13-01')).to.equal(undefined);
    // 02:30 does not exist on 2026-03-29 in Berlin: it moves forward by the gap.
    expect(wallTimeToEpoch('Europe/Berlin', 2026, 3, 29, 2, 30)).to.equal(Date.parse('2026-03-29T01:30:00Z'));
  });

  it('maps the old API\'s fields to vocabulary ids, by the meter\'s phases', () => {
    for (const f of LEGACY_API_FIELDS) {
      expect(getMeasurement(f.singlePhase), f.field).to.not.equal(undefined);
      expect(getMeasurement(f.threePhase), f.field).to.not.equal(undefined);
    }
    const single = { resolve: (n: string) => (n === 'voltageL1' ? {} : undefined) };
    const three = { resolve: (n: string) => (n.startsWith('voltageL') ? {} : undefined) };
    expect(legacyApiFieldMeasurement('voltage', single)).to.equal('voltageL1');
    expect(legacyApiFieldMeasurement('Voltage', three)).to.equal('voltageLnAvg');
    expect(legacyApiFieldMeasurement('import_energy', single)).to.equal('importEnergy');
    expect(legacyApiFieldMeasurement('warp', single)).to.equal(undefined);
  });

  it('docs/rest-api.md shows exactly the SDK\'s table of old API fields', () => {
    const doc = readFileSync(new URL('../../docs/rest-api.md', import.meta.url), 'utf8');
    const rows = [...doc.matchAll(/^\| (`[a-z_]+`(?:, `[a-z_]+`)*) \| `(\w+)` \| `(\w+)` \|$/gm)]
      .flatMap((m) => [...m[1]!.matchAll(/`([a-z_]+)`/g)].map((f) => ({ field: f[1], singlePhase: m[2], threePhase: m[3] })));
    expect(rows).to.have.deep.members(LEGACY_API_FIELDS.map((f) => ({ ...f })));
  });
});
