import { expect } from 'chai';
import { roundMoney, TariffBook, TariffPlan } from '../src/tariffs/tariff-plan.js';
import type { TariffConfig } from '../src/tariffs/tariff-schema.js';
import { pricesAt } from '../../test-support/tariff-fixtures.js';

const WEEKDAYS = ['mon', 'tue', 'wed', 'thu', 'fri'] as const;
const tariff = (timeZone: string): TariffConfig => ({
  id: 't', currency: 'AUD', timeZone,
  versions: [
    {
      validFrom: '2026-01-01', standingChargePerDay: 1, feedInPerKWh: 0.05,
      windows: [
        { days: [...WEEKDAYS], from: '07:30', to: '22:00', pricePerKWh: 0.4 },
        { days: [...WEEKDAYS], from: '22:00', to: '01:15', pricePerKWh: 0.3 },
        { days: [...WEEKDAYS], from: '01:15', to: '07:30', pricePerKWh: 0.2 },
        { days: ['sat', 'sun'], from: '00:00', to: '02:30', pricePerKWh: 0.25 },
        { days: ['sat', 'sun'], from: '02:30', to: '24:00', pricePerKWh: 0.35 },
      ],
    },
    {
      validFrom: '2026-10-04', standingChargePerDay: 2, feedInPerKWh: 0.06,
      windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '03:00', to: '02:45', pricePerKWh: 0.5 }, { days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '02:45', to: '03:00', pricePerKWh: 0.1 }],
    },
  ],
});

/**
 * Every minute of a few days around DST changes and a price change, in zones
 * with whole-hour and half-hour offsets: the span a lookup returns holds the
 * price the obvious per-minute lookup (Intl, in the test fixtures) gives for
 * each of its minutes, and ends where that price or the version changes.
 */
describe('tariff plan: price spans', () => {
  const cases: Array<[string, string, number]> = [
    ['Europe/Berlin', '2026-03-27T00:00:00Z', 4],
    ['Europe/Berlin', '2026-10-23T00:00:00Z', 4],
    ['Australia/Adelaide', '2026-04-03T00:00:00Z', 4], // +10:30 → +09:30 on 5 April
    ['Australia/Adelaide', '2026-10-02T00:00:00Z', 4], // +09:30 → +10:30 on 4 October, the day the second version starts
    ['America/St_Johns', '2026-03-06T00:00:00Z', 3], // −03:30 → −02:30 on 8 March
  ];
  for (const [zone, from, days] of cases) {
    it(`${zone} from ${from.slice(0, 10)}: ${days} days, minute by minute`, () => {
      const config = tariff(zone);
      const plan = new TariffPlan(config);
      const start = Date.parse(from);
      let spans = 0;
      for (let t = start; t < start + days * 86_400_000;) {
        const span = plan.pricesAt(t);
        spans++;
        expect(span.until, `span at ${new Date(t).toISOString()}`).to.be.greaterThan(t);
        for (let m = t; m < span.until && m < start + days * 86_400_000; m += 60_000) {
          const expected = pricesAt(config as never, m);
          expect(span.importPerKWh, `import price at ${new Date(m).toISOString()}`).to.equal(expected.importPrice);
          expect(span.feedInPerKWh, `feed-in at ${new Date(m).toISOString()}`).to.equal(expected.feedIn);
        }
        t = span.until;
      }
      // A handful of lookups per day, not one per minute.
      expect(spans).to.be.lessThan(days * 12);
    });
  }

  it('rounds money to the minor unit, halves away from zero, without float noise', () => {
    expect(roundMoney(0.125, 2)).to.equal(0.13);
    expect(roundMoney(1.005, 2)).to.equal(1.01); // 1.005 is 1.00499999999999989… as a double
    expect(roundMoney(-0.125, 2)).to.equal(-0.13);
    expect(roundMoney(0.1 + 0.2, 2)).to.equal(0.3);
    expect(roundMoney(1234.5, 0)).to.equal(1235);
    expect(roundMoney(0.0005, 3)).to.equal(0.001);
    expect(new TariffPlan({ ...tariff('UTC'), currency: 'JPY' }).digits).to.equal(0);
    expect(new TariffPlan({ ...tariff('UTC'), currency: 'BHD' }).digits).to.equal(3);
  });

  it('a meter pays its own tariff, else the default; ids that are names of Object\'s members are ordinary ids', () => {
    const book = new TariffBook({ list: [tariff('UTC'), { ...tariff('UTC'), id: 'own' }], default: 't', meters: { garage: 'own' } });
    expect(book.forMeter('garage')!.id).to.equal('own');
    expect(book.forMeter('house')!.id).to.equal('t');
    expect(book.forMeter('constructor')!.id).to.equal('t');
    expect(new TariffBook({ list: [tariff('UTC')], meters: {} }).forMeter('toString')).to.equal(undefined);
  });
});
