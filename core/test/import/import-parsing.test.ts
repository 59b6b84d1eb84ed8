import { expect } from 'chai';
import { mapColumns } from '../../src/import/column-mapping.js';
import { detectDelimiter } from '../../src/import/csv-source.js';
import { parseCsvTime } from '../../src/import/csv-time.js';
import { ImportCounts } from '../../src/import/import-counts.js';
import { parseMeterMap } from '../../src/import/import-job.js';

describe('import: column mapping, CSV times and delimiters', () => {
  it('maps old API fields by phase, vocabulary ids and export headers; reports the rest with suggestions', () => {
    const three = { resolve: (n: string) => (n === 'voltageL3' ? {} : undefined) };
    const cols = ['id', 'meter_id', 'timestamp', 'Voltage', 'current', 'power', 'active_power', 'importEnergy (kWh)', 'frequncy', 'temperature'];
    const single = mapColumns(cols, undefined, ['id', 'meter_id', 'timestamp']);
    expect(single.mapped.map((m) => [m.column, m.measurement])).to.deep.equal([['Voltage', 'voltageL1'], ['current', 'currentL1'], ['power', 'power'], ['importEnergy (kWh)', 'importEnergy']]);
    expect(single.unmatched).to.deep.equal([
      { column: 'active_power', hint: 'maps to power, already taken by an earlier column' },
      { column: 'frequncy', hint: 'did you mean "frequency"?' },
      { column: 'temperature' },
    ]);
    expect(mapColumns(['voltage', 'current'], three).mapped.map((m) => m.measurement)).to.deep.equal(['voltageLnAvg', 'currentSum']);
  });

  it('reads offsets, wall-clock times in a zone across both DST changes, and epoch seconds or ms', () => {
    const tz = 'Europe/Berlin';
    expect(parseCsvTime('2026-03-28T13:00:10+01:00', tz)).to.equal(Date.parse('2026-03-28T12:00:10Z'));
    expect(parseCsvTime('2026-03-28T12:00:10Z', tz)).to.equal(Date.parse('2026-03-28T12:00:10Z'));
    expect(parseCsvTime('2026-03-29 01:59:00', tz)).to.equal(Date.parse('2026-03-29T00:59:00Z'));
    expect(parseCsvTime('2026-03-29 03:00:00', tz)).to.equal(Date.parse('2026-03-29T01:00:00Z'));
    const first = parseCsvTime('2026-10-25 02:30', tz)!;
    expect(first).to.equal(Date.parse('2026-10-25T00:30:00Z'));
    expect(parseCsvTime('2026-10-25 02:15', tz, first)).to.equal(Date.parse('2026-10-25T01:15:00Z'));
    expect(parseCsvTime('2026-10-25 02:45', tz, Date.parse('2026-10-25T00:30:00Z'))).to.equal(Date.parse('2026-10-25T00:45:00Z'));
    expect(parseCsvTime('1774569600', tz)).to.equal(1774569600000);
    expect(parseCsvTime('1774569600123', tz)).to.equal(1774569600123);
    expect(parseCsvTime('yesterday', tz)).to.equal(undefined);
    expect(parseCsvTime('', tz)).to.equal(undefined);
  });

  it('detects the delimiter from the header, ignoring quoted text', () => {
    expect(detectDelimiter('time (UTC),meter,power (W)')).to.equal(',');
    expect(detectDelimiter('"time, local";meter;power (W)')).to.equal(';');
    expect(detectDelimiter('time\tmeter\tpower')).to.equal('\t');
  });

  it('parses --meter-map pairs and totals counts per meter', () => {
    expect([...parseMeterMap(['1=house', '2=heat-pump,3=garage'])]).to.deep.equal([['1', 'house'], ['2', 'heat-pump'], ['3', 'garage']]);
    expect(() => parseMeterMap(['1='])).to.throw(/not valid/);
    const c = new ImportCounts();
    c.of('a').read = 3;
    c.skip('a', 'x', 2);
    c.of('b').read = 1;
    expect(c.totals).to.deep.include({ read: 4, skipped: { x: 2 } });
    expect(c.format().join('\n')).to.match(/total\s+4/).and.include('a: skipped 2: x');
  });
});
