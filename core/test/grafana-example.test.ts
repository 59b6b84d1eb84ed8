import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';
import type { StorageService } from '../src/storage/storage-service.js';
import { meterConfig, StorageHarness } from './storage/storage-harness.js';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const dashboard = JSON.parse(readFileSync(join(repo, 'examples/grafana/dashboards/meterhub-overview.json'), 'utf8')) as {
  uid: string;
  templating: { list: Array<{ name: string; query: string; datasource: { uid: string } }> };
  panels: Array<{ title: string; datasource: { uid: string }; targets: Array<{ rawSql: string; datasource: { uid: string } }> }>;
};
const datasource = (parseYaml(readFileSync(join(repo, 'examples/grafana/provisioning/datasources/meterhub.yaml'), 'utf8')) as {
  datasources: Array<{ uid: string; type: string; jsonData: { database: string } }>;
}).datasources[0]!;

const panelSql = (title: string) => dashboard.panels.find((p) => p.title.startsWith(title))!.targets[0]!.rawSql;

/**
 * Grafana's PostgreSQL macros and variables, expanded as Grafana documents
 * them, with concrete bounds: `$__timeFilter(c)` → `c BETWEEN 'from' AND 'to'`,
 * `$__timeGroupAlias(c, i)` → `floor(extract(epoch from c)/s)*s AS "time"`.
 */
function expand(sql: string, o: { from: number; to: number; intervalS: number; meter: string }): string {
  const out = sql
    .replaceAll('$__interval', `${o.intervalS}s`)
    .replaceAll('$meter', o.meter)
    .replace(/\$__timeFilter\((\w+)\)/g, (_, c: string) => `${c} BETWEEN '${new Date(o.from).toISOString()}' AND '${new Date(o.to).toISOString()}'`)
    .replace(/\$__timeGroupAlias\((\w+), *(\d+)s\)/g, (_, c: string, s: string) => `floor(extract(epoch from ${c})/${s})*${s} AS "time"`);
  if (out.includes('$')) throw new Error(`a Grafana macro this test does not expand: ${out}`);
  return out;
}

const DAY = 86_400_000;
const HOUR = 3_600_000;
const D = Date.UTC(2026, 2, 10);

describe('examples/grafana: the dashboard\'s queries on a database filled by the ingest path', function () {
  this.timeout(120000);
  let h: StorageHarness;
  let s: StorageService;
  const rows = async (sql: string) => ((await s.knex.raw(sql)) as { rows: Array<Record<string, unknown>> }).rows;

  before(async () => {
    h = await StorageHarness.create('postgres', 'grafana');
    s = await h.open();
    await s.syncConfigMeters([meterConfig('house'), meterConfig('garage')]);
    // Two UTC days of a three-phase meter every minute: power steps by the hour, L3 alternates by the
    // minute, import energy rises 1 kWh at every hour start, export 0.5 kWh every 12 hours.
    for (let ts = D; ts < D + 2 * DAY; ts += 60_000) {
      const hours = Math.floor((ts - D) / HOUR);
      const minute = Math.floor(ts / 60_000);
      s.offer({
        meterId: 'house', ts,
        values: { power: 500 + 100 * (hours % 24), voltageL1: 230, voltageL2: 231, voltageL3: 229 + (minute % 2), importEnergy: 1000 + hours, exportEnergy: 10 + 0.5 * Math.floor(hours / 12) },
      });
    }
    s.offer({ meterId: 'garage', ts: D + 7 * HOUR, values: { power: 99999, voltageL1: 1, importEnergy: 1 } });
    await s.refresh();
  });
  after(async () => {
    await s.close();
    await h.dispose();
  });

  it('provisions a PostgreSQL data source that every panel and the meter variable use', () => {
    expect(datasource.type).to.equal('grafana-postgresql-datasource');
    expect(datasource.jsonData.database).to.equal('meterhub');
    expect(dashboard.panels.map((p) => p.title)).to.deep.equal(['Power', 'Voltage per phase (minute averages)', 'Daily energy']);
    for (const p of dashboard.panels) expect([p.datasource.uid, p.targets[0]!.datasource.uid]).to.deep.equal([datasource.uid, datasource.uid]);
    expect(dashboard.templating.list[0]!.datasource.uid).to.equal(datasource.uid);
  });

  it('lists the meters for the $meter variable', async () => {
    expect(await rows(dashboard.templating.list[0]!.query)).to.deep.equal([{ key: 'garage' }, { key: 'house' }]);
  });

  it('Power: hourly averages of the raw readings of the chosen meter in the time range', async () => {
    const sql = expand(panelSql('Power'), { from: D + 6 * HOUR, to: D + 9 * HOUR - 1000, intervalS: 3600, meter: 'house' });
    const result = (await rows(sql)).map((r) => [Number(r['time']) * 1000, r['power']]);
    expect(result).to.deep.equal([[D + 6 * HOUR, 1100], [D + 7 * HOUR, 1200], [D + 8 * HOUR, 1300]]);
  });

  it('Voltage per phase: L1, L2, L3 from the minute rollups', async () => {
    const sql = expand(panelSql('Voltage per phase'), { from: D + 6 * HOUR, to: D + 8 * HOUR - 1000, intervalS: 3600, meter: 'house' });
    expect(await rows(sql)).to.deep.equal([
      { time: String((D + 6 * HOUR) / 1000), L1: 230, L2: 231, L3: 229.5 },
      { time: String((D + 7 * HOUR) / 1000), L1: 230, L2: 231, L3: 229.5 },
    ]);
  });

  it('Daily energy: the consumption of each UTC day from the day rollups, adding up across days', async () => {
    const sql = expand(panelSql('Daily energy'), { from: D, to: D + 2 * DAY - 1000, intervalS: 3600, meter: 'house' });
    const result = (await rows(sql)).map((r) => [(r['time'] as Date).getTime(), r['import'], r['export']]);
    // Day 1 starts at 1000 kWh with no earlier reading (23 increases); day 2 includes the step from day 1's last reading.
    expect(result).to.deep.equal([[D, 23, 0.5], [D + DAY, 24, 1]]);
  });
});
