import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { RestRig } from '../../rest/test/rest-rig.js';
import { SioClient } from '../../socketio/test/live-clients.js';
import { METRIC_BY_MEASUREMENT } from '../src/metric-names.js';
import { parseExposition, promtoolCheck, sampleValue, scrape } from './prometheus-helpers.js';

/** One poll cycle at start, then none during the test: REST and /metrics see the same newest values. */
const ONCE = { instantMs: 600000, counterMs: 600000 };
const REPO = join(import.meta.dirname, '../../..');
const METERS = [
  { id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1, intervals: ONCE },
  { id: 'garage', name: 'Garage "east"\\side', driver: 'sdm230', bus: 'sim', unitId: 2, intervals: ONCE },
];

describe('prometheus: /metrics with access "authenticated"', function () {
  this.timeout(30000);
  let rig: RestRig;
  let readKey: string;
  let ingestKey: string;

  before(async () => {
    rig = await RestRig.start('sqlite', {
      meters: METERS,
      plugins: {
        prometheus: { config: { access: 'authenticated' } },
        // A central host that is not there (nothing listens on loopback port 9): readings wait in the outbox.
        uplink: { config: { url: 'http://127.0.0.1:9', key: `mh_${'x'.repeat(40)}`, backoff: { initialMs: 60000, maxMs: 60000 } } },
      },
    });
    const { access } = await rig.login();
    readKey = (await rig.request('POST', '/api/keys/', { token: access, body: { name: 'prometheus', scopes: ['read'] } })).body.key;
    ingestKey = (await rig.request('POST', '/api/keys/', { token: access, body: { name: 'collector', scopes: ['ingest'] } })).body.key;
    await rig.waitFor('both meters read once (instant values and counters)', () => METERS.every((m) =>
      rig.host.storage!.latest(m.id, 'power') && rig.host.storage!.latest(m.id, 'energy')));
  });
  after(() => rig.stop());

  it('answers 401 without credentials or with a revoked key, 403 for a key without "read", 200 for a read key (Bearer or X-API-Key) or a user token', async () => {
    const none = await scrape(rig.base);
    expect(none.status).to.equal(401);
    expect(none.headers.get('www-authenticate')).to.match(/^Bearer /);
    expect(JSON.parse(none.text).error.code).to.equal('METERHUB_ERR_UNAUTHORIZED');
    expect(none.text).to.not.include('meterhub_');

    expect((await scrape(rig.base, '/metrics', { authorization: 'Bearer mh_not-a-real-key-0000000000000' })).status).to.equal(401);
    const ingest = await scrape(rig.base, '/metrics', { authorization: `Bearer ${ingestKey}` });
    expect(ingest.status).to.equal(403);
    expect(JSON.parse(ingest.text).error.code).to.equal('METERHUB_ERR_FORBIDDEN');

    // What Prometheus sends with `authorization: {credentials_file: ...}`.
    expect((await scrape(rig.base, '/metrics', { authorization: `Bearer ${readKey}` })).status).to.equal(200);
    expect((await scrape(rig.base, '/metrics', { 'x-api-key': readKey })).status).to.equal(200);
    const { access } = await rig.login();
    expect((await scrape(rig.base, '/metrics', { authorization: `Bearer ${access}` })).status).to.equal(200);

    // A revoked key stops scraping at once.
    const spare = (await rig.request('POST', '/api/keys/', { token: access, body: { name: 'spare', scopes: ['read'] } })).body;
    expect((await scrape(rig.base, '/metrics', { authorization: `Bearer ${spare.key}` })).status).to.equal(200);
    expect((await rig.request('DELETE', `/api/keys/${spare.id}/`, { token: access })).status).to.equal(204);
    expect((await scrape(rig.base, '/metrics', { authorization: `Bearer ${spare.key}` })).status).to.equal(401);
  });

  it('serves the text format 0.0.4 that Prometheus\' promtool accepts without a lint warning', async () => {
    const res = await scrape(rig.base, '/metrics', { authorization: `Bearer ${readKey}` });
    expect(res.contentType).to.equal('text/plain; version=0.0.4; charset=utf-8');
    expect(res.text.endsWith('\n')).to.equal(true);
    const check = promtoolCheck(res.text);
    expect(check.output, check.output).to.equal('');
    expect(check.status).to.equal(0);

    // The check is not vacuous: promtool flags a counter without _total.
    const bad = promtoolCheck('# HELP x_joules energy\n# TYPE x_joules counter\nx_joules 1\n');
    expect(bad.output).to.match(/counter metrics should have "_total" suffix/);
  });

  it('every value equals the REST latest answer, converted to base units, with meter, phase and tariff labels', async () => {
    const families = parseExposition((await scrape(rig.base, '/metrics', { 'x-api-key': readKey })).text);
    let compared = 0;
    for (const meter of METERS) {
      for (const family of ['power', 'energy'] as const) {
        const rest = await rig.request('GET', `/api/meters/${meter.id}/${family}/latest/`, { key: readKey });
        expect(rest.status).to.equal(200);
        const ts = Date.parse(rest.body.timestamp) / 1000;
        expect(sampleValue(families, 'meterhub_meter_last_reading_timestamp_seconds', { meter: meter.id })).to.be.at.least(ts);
        for (const [id, value] of Object.entries(rest.body.values as Record<string, number>)) {
          const m = METRIC_BY_MEASUREMENT.get(id)!;
          const labels = { meter: meter.id, ...(m.phase ? { phase: m.phase } : {}), ...(m.tariff ? { tariff: m.tariff } : {}) };
          // REST sends the shortest decimal of the stored float32; /metrics the float32 itself.
          expect(sampleValue(families, m.name, labels), `${id} -> ${m.name}`).to.equal(Math.fround(value) * m.factor);
          expect(families.get(m.name)!.type).to.equal(m.type.toUpperCase());
          compared++;
        }
      }
    }
    expect(compared).to.be.greaterThan(86 + 10);

    // Spelled out for the simulator's pinned values, and the documented names.
    expect(sampleValue(families, 'meterhub_voltage_volts', { meter: 'house', phase: 'L1' })).to.equal(231.25);
    expect(sampleValue(families, 'meterhub_power_watts', { meter: 'garage' })).to.equal(640.5);
    const kwh = (await rig.request('GET', '/api/meters/house/energy/latest/', { key: readKey })).body.values.importEnergy as number;
    expect(sampleValue(families, 'meterhub_energy_import_joules_total', { meter: 'house' })).to.equal(Math.fround(kwh) * 3_600_000);
    expect(families.get('meterhub_energy_import_joules_total')!.type).to.equal('COUNTER');
    expect(sampleValue(families, 'meterhub_phase_power_watts', { meter: 'house', phase: 'L2' })).to.be.a('number');
    expect(families.get('meterhub_power_watts')!.metrics.every((s) => s.labels?.['phase'] === undefined)).to.equal(true);
  });

  it('reports meter states, acquisition per bus with a latency histogram, storage, live clients and the process', async () => {
    const text = (await scrape(rig.base, '/metrics', { 'x-api-key': readKey })).text;
    const families = parseExposition(text);
    for (const meter of ['house', 'garage']) {
      expect(sampleValue(families, 'meterhub_meter_up', { meter })).to.equal(1);
      expect(sampleValue(families, 'meterhub_meter_state', { meter, state: 'online' })).to.equal(1);
      expect(sampleValue(families, 'meterhub_meter_state', { meter, state: 'offline' })).to.equal(0);
      expect(sampleValue(families, 'meterhub_meter_last_reading_age_seconds', { meter })).to.be.within(0, 30);
      expect(sampleValue(families, 'meterhub_meter_poll_cycles_total', { meter })).to.be.at.least(1);
    }
    // The meter name with a quote and a backslash survives the escaping, as the parser reads it back.
    const info = families.get('meterhub_meter_info')!.metrics.find((m) => m.labels?.['meter'] === 'garage')!;
    expect(info.labels).to.deep.include({ name: 'Garage "east"\\side', driver: 'sdm230', bus: 'sim' });

    const status = rig.host.status().acquisition.buses.find((b) => b.id === 'sim')!;
    expect(sampleValue(families, 'meterhub_bus_requests_total', { bus: 'sim' })).to.be.at.least(1).and.at.most(status.requests!);
    expect(sampleValue(families, 'meterhub_bus_errors_total', { bus: 'sim', kind: 'timeout' })).to.equal(0);
    const hist = families.get('meterhub_bus_request_duration_seconds')!;
    expect(hist.type).to.equal('HISTOGRAM');
    // The parser folds a labelled histogram into its buckets and drops _sum/_count (one bus here); those are read from the text.
    const buckets = Object.entries(hist.metrics[0]!.buckets!).map(([le, n]) => [le === '+Inf' ? Infinity : Number(le), Number(n)] as const).sort((a, b) => a[0] - b[0]);
    expect(buckets.map(([le]) => le)).to.deep.equal([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, Infinity]);
    expect(buckets.map(([, n]) => n)).to.deep.equal([...buckets.map(([, n]) => n)].sort((a, b) => a - b));
    const count = Number(/^meterhub_bus_request_duration_seconds_count\{bus="sim"\} (\S+)$/m.exec(text)?.[1]);
    const sum = Number(/^meterhub_bus_request_duration_seconds_sum\{bus="sim"\} (\S+)$/m.exec(text)?.[1]);
    expect(count).to.be.at.least(1).and.equal(buckets.at(-1)![1]);
    expect(sum).to.be.greaterThan(0);

    await rig.waitFor('the readings committed', () => Number((rig.host.status().storage as { stored?: number })['stored']) >= METERS.length);
    await rig.waitFor('the readings queued in the uplink outbox', () =>
      Number(rig.host.status().plugins.find((p) => p.id === 'uplink')?.details?.['queued']) >= METERS.length);
    // Degraded once its first send failed: after the batch delay, which a loaded machine stretches.
    await rig.waitFor('the uplink degraded (its central host is unreachable)', () => rig.host.status().plugins.find((p) => p.id === 'uplink')?.state === 'degraded');
    const queued = rig.host.status().plugins.find((p) => p.id === 'uplink')!.details!['queued'];
    const later = parseExposition((await scrape(rig.base, '/metrics', { 'x-api-key': readKey })).text);
    expect(sampleValue(later, 'meterhub_storage_committed_readings_total', {})).to.be.at.least(METERS.length);
    expect(sampleValue(later, 'meterhub_storage_queue_readings', {})).to.be.a('number');
    expect(sampleValue(later, 'meterhub_storage_spool_readings', {})).to.equal(0);
    expect(sampleValue(later, 'meterhub_live_clients', { channel: 'socketio' })).to.equal(0);
    expect(sampleValue(later, 'meterhub_uplink_queue_readings', {})).to.equal(queued);
    expect(sampleValue(later, 'meterhub_uplink_oldest_reading_age_seconds', {})).to.be.at.least(0);
    expect(sampleValue(later, 'meterhub_plugin_degraded', { plugin: 'uplink' })).to.equal(1);
    expect(sampleValue(later, 'meterhub_uplink_sent_readings_total', {})).to.equal(0);
    expect(sampleValue(later, 'meterhub_plugin_up', { plugin: 'prometheus' })).to.equal(1);
    expect(later.get('nodejs_eventloop_lag_p99_seconds')?.type).to.equal('GAUGE');
    expect(later.get('process_cpu_seconds_total')?.type).to.equal('COUNTER');

    // A live client shows up once the live-stream plugin reports it (once a second).
    const client = new SioClient(rig.base, { token: (await rig.login()).access });
    try {
      await client.connected();
      await rig.waitFor('the live client on the status', async () =>
        sampleValue(parseExposition((await scrape(rig.base, '/metrics', { 'x-api-key': readKey })).text), 'meterhub_live_clients', { channel: 'socketio' }) === 1);
    } finally {
      client.close();
    }
  });

  it('the Grafana dashboard and docs/prometheus.md name only metrics the host serves; promtool accepts the dashboard\'s PromQL and the example scrape config', async () => {
    const text = (await scrape(rig.base, '/metrics', { 'x-api-key': readKey })).text;
    const served = new Set([...text.matchAll(/^(?:# TYPE )?([a-z_:][a-z0-9_:]*)[{ ]/gm)].map((m) => m[1]!));
    for (const m of METRIC_BY_MEASUREMENT.values()) served.add(m.name);
    // Only present while an uplink is configured.
    for (const n of ['queue_readings', 'oldest_reading_age_seconds', 'sent_readings_total', 'rejected_readings_total', 'dropped_readings_total']) served.add(`meterhub_uplink_${n}`);

    const dashboard = JSON.parse(readFileSync(join(REPO, 'examples/grafana/meterhub-prometheus.json'), 'utf8'));
    const exprs = [
      ...dashboard.panels.flatMap((p: { targets: Array<{ expr: string }> }) => p.targets.map((t) => t.expr)),
      ...dashboard.templating.list.filter((v: { type: string }) => v.type === 'query').map((v: { definition: string }) => v.definition),
    ];
    const used = new Set(exprs.flatMap((e: string) => [...e.matchAll(/\b((?:meterhub|nodejs|process)_[a-z0-9_]+)/g)].map((m) => m[1]!)));
    expect([...used].filter((n) => !served.has(n)), 'dashboard metrics not served').to.deep.equal([]);
    expect(used).to.include.members(['meterhub_power_watts', 'meterhub_voltage_volts', 'meterhub_energy_import_joules_total']);

    const docs = readFileSync(join(REPO, 'docs/prometheus.md'), 'utf8');
    const documented = new Set([...docs.matchAll(/`((?:meterhub|nodejs|process)_[a-z0-9_]+)[`{]/g)].map((m) => m[1]!));
    const ignored = new Set(['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']);
    expect([...documented].filter((n) => !served.has(n) && !ignored.has(n)), 'documented metrics not served').to.deep.equal([]);
    expect([...new Set([...METRIC_BY_MEASUREMENT.values()].map((m) => m.name))].filter((n) => !documented.has(n)), 'metrics missing from the docs').to.deep.equal([]);
    expect([...served].filter((n) => n.startsWith('meterhub_') && !documented.has(n) && !n.startsWith('meterhub_bus_request_duration_seconds_')), 'served but undocumented').to.deep.equal([]);

    // The example scrape config, with its key file where promtool can find it; the dashboard's PromQL as recording rules.
    const dir = mkdtempSync(join(tmpdir(), 'meterhub-prom-'));
    try {
      const rules = { groups: [{ name: 'dashboard', rules: exprs.filter((e: string) => !e.startsWith('label_values')).map((e: string, i: number) => ({
        record: `dashboard:expr_${i}`, expr: e.replaceAll('$meter', '.+'),
      })) }] };
      writeFileSync(join(dir, 'rules.yml'), JSON.stringify(rules)); // JSON is YAML
      const ruleCheck = spawnSync('promtool', ['check', 'rules', join(dir, 'rules.yml')], { encoding: 'utf8' });
      expect(ruleCheck.status, `${ruleCheck.stdout}${ruleCheck.stderr}`).to.equal(0);
      expect(ruleCheck.stdout).to.include(`SUCCESS: ${rules.groups[0]!.rules.length} rules found`);

      writeFileSync(join(dir, 'meterhub.key'), readKey);
      const config = readFileSync(join(REPO, 'examples/grafana/prometheus.yml'), 'utf8').replace('/etc/prometheus/meterhub.key', join(dir, 'meterhub.key'));
      writeFileSync(join(dir, 'prometheus.yml'), config);
      const run = spawnSync('promtool', ['check', 'config', join(dir, 'prometheus.yml')], { encoding: 'utf8' });
      expect(run.status, `${run.stdout}${run.stderr}`).to.equal(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('answers 405 to other methods and 404 below /metrics', async () => {
    const post = await fetch(`${rig.base}/metrics`, { method: 'POST', headers: { 'x-api-key': readKey } });
    expect(post.status).to.equal(405);
    expect(post.headers.get('allow')).to.equal('GET, HEAD');
    expect((await scrape(rig.base, '/metrics/nothing', { 'x-api-key': readKey })).status).to.equal(404);
  });
});

describe('prometheus: off until configured', function () {
  this.timeout(30000);

  it('serves no /metrics and says how to turn it on', async () => {
    const rig = await RestRig.start('sqlite', { meters: [] });
    try {
      const res = await scrape(rig.base);
      expect(res.status).to.equal(404);
      const report = rig.host.status().plugins.find((p) => p.id === 'prometheus')!;
      expect(report.state).to.equal('running');
      expect(report.details).to.deep.include({ enabled: false });
      expect(String(report.details!['hint'])).to.include('plugins.prometheus.config.access');
    } finally {
      await rig.stop();
    }
  });

  it('refuses an unknown access value, naming the field, and serves nothing', async () => {
    const rig = await RestRig.start('sqlite', { meters: [], plugins: { prometheus: { config: { access: 'open' } } } });
    try {
      expect((await scrape(rig.base)).status).to.equal(404);
      const report = rig.host.status().plugins.find((p) => p.id === 'prometheus')!;
      expect(report.state).to.equal('error');
      expect(JSON.stringify(report.error)).to.include('/plugins/prometheus/config/access');
    } finally {
      await rig.stop();
    }
  });
});
