import { expect } from 'chai';
import { isMeterhubError } from '@meterhub/sdk';
import { Host } from '../src/host.js';
import { createLogger } from '../src/logging/logger.js';
import { tempDataDir } from './helpers/temp-data-dir.js';

const silent = createLogger({ level: 'silent', pretty: false });

async function prepare(tariffs: unknown): Promise<Host> {
  const dir = tempDataDir();
  const host = new Host({ config: { dataDir: dir.dataDir, tariffs }, cwd: dir.root, env: {}, logger: silent });
  try {
    await host.prepare();
  } finally {
    dir.cleanup();
  }
  return host;
}

async function problems(tariffs: unknown): Promise<string[]> {
  try {
    await prepare(tariffs);
  } catch (err) {
    if (!isMeterhubError(err, 'METERHUB_ERR_CONFIG_INVALID')) throw err;
    return err.details.map((d) => `${d.path} ${d.message}`);
  }
  return [];
}

const flat = (extra: Record<string, unknown> = {}) => ({ validFrom: '2026-01-01', windows: [{ from: '00:00', to: '24:00', pricePerKWh: 0.3 }], ...extra });
const tariff = (extra: Record<string, unknown> = {}) => ({ id: 'home', currency: 'EUR', timeZone: 'Europe/Berlin', versions: [flat()], ...extra });

describe('tariffs in the configuration', () => {
  it('fills defaults from the schema: every weekday, no standing charge, no feed-in, UTC', async () => {
    const host = await prepare({ list: [{ id: 'home', currency: 'CHF', versions: [flat()] }], default: 'home' });
    expect(host.config.tariffs).to.deep.equal({
      default: 'home', meters: {},
      list: [{ id: 'home', currency: 'CHF', timeZone: 'UTC', versions: [{ validFrom: '2026-01-01', standingChargePerDay: 0, feedInPerKWh: 0, windows: [{ days: ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'], from: '00:00', to: '24:00', pricePerKWh: 0.3 }] }] }],
    });
    expect(host.tariffs!.forMeter('anything')!.minorUnitDigits).to.equal(2);
    expect((await prepare({})).config.tariffs).to.deep.equal({ list: [], meters: {} });
  });

  it('names overlapping and missing windows with their JSON path and the times at fault', async () => {
    const windows = [
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '07:00', to: '22:00', pricePerKWh: 0.31 },
      { days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '21:00', to: '06:00', pricePerKWh: 0.19 },
      { days: ['sat', 'sun'], from: '00:00', to: '24:00', pricePerKWh: 0.2 },
    ];
    const found = await problems({ list: [tariff({ versions: [flat({ windows })] })] });
    expect(found).to.include('/tariffs/list/0/versions/0/windows/1 overlaps an earlier window on mon: 21:00-22:00');
    expect(found).to.include('/tariffs/list/0/versions/0/windows no window covers fri 06:00-07:00');
    expect(found).to.have.length(10); // five overlaps, five gaps
  });

  it('rejects unknown currencies and zones, impossible or unordered dates, and unknown tariff references', async () => {
    const found = await problems({
      list: [tariff({ currency: 'EUX', timeZone: 'Europe/Nowhere', versions: [flat({ validFrom: '2026-02-30' }), flat({ validFrom: '2026-03-01' }), flat({ validFrom: '2026-01-15' })] }), tariff()],
      default: 'homes', meters: { garage: 'ev' },
    });
    expect(found).to.have.members([
      '/tariffs/list/0/currency "EUX" is not an ISO 4217 currency code',
      '/tariffs/list/0/timeZone "Europe/Nowhere" is not a known IANA time zone',
      '/tariffs/list/0/versions/0/validFrom "2026-02-30" is not a calendar date',
      '/tariffs/list/0/versions/2/validFrom must be after 2026-03-01 (versions are in ascending order of validFrom)',
      '/tariffs/list/1/id tariff id "home" is used twice',
      '/tariffs/default no tariff "homes"',
      '/tariffs/meters/garage no tariff "ev"',
    ]);
    expect(await problems({ list: [tariff({ versions: [flat({ windows: [{ from: '7:00', to: '24:00', pricePerKWh: -1 }] })] })] })).to.include.members([
      '/tariffs/list/0/versions/0/windows/0/from must match pattern "^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"',
      '/tariffs/list/0/versions/0/windows/0/pricePerKWh must be >= 0',
    ]);
  });
});
