import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { meterDiscovery } from '../src/ha-discovery.js';
import { configSchema } from '../src/mqtt-config.js';
import { Topics } from '../src/topics.js';
import { Host } from '../../../core/src/host.js';
import { tempDataDir } from '../../../core/test/helpers/temp-data-dir.js';
import { builtinDriver } from '../../../test-support/builtin-drivers.js';
import { clearRetained, Recorder, SHARED_PORT, silentLogger, testRoot, until } from './mqtt-rig.js';

const DOC = readFileSync(fileURLToPath(new URL('../../../docs/mqtt.md', import.meta.url)), 'utf8');

/** The fenced JSON block that follows `marker` in docs/mqtt.md. */
function docJson(marker: string): unknown {
  const from = DOC.indexOf(marker);
  const block = /```json\n([\s\S]*?)```/.exec(DOC.slice(from));
  if (from < 0 || !block) throw new Error(`no JSON block after "${marker}" in docs/mqtt.md`);
  return JSON.parse(block[1]!);
}

async function hostWith(env: NodeJS.ProcessEnv, mqtt: Record<string, unknown>) {
  const dir = tempDataDir();
  const host = new Host({ config: { dataDir: dir.dataDir, http: { port: 0 }, plugins: { mqtt: { config: mqtt } } }, cwd: dir.root, env, logger: silentLogger() });
  await host.start();
  return { host, report: () => host.plugins.reports().find((p) => p.id === 'mqtt')!, close: async () => {
    await host.stop();
    dir.cleanup();
  } };
}

describe('mqtt plugin: configuration and docs', function () {
  this.timeout(60000);

  it('is idle without a URL, and says how to turn it on', async () => {
    const h = await hostWith({}, {});
    try {
      expect(h.report().state).to.equal('running');
      expect(h.report().details).to.deep.include({ enabled: false });
      expect(String(h.report().details?.['hint'])).to.contain('MQTT_URL');
    } finally {
      await h.close();
    }
  });

  it('takes the broker from MQTT_URL', async () => {
    const t = testRoot();
    const rec = await Recorder.start(SHARED_PORT, `${t.root}/#`);
    const h = await hostWith({ MQTT_URL: `mqtt://127.0.0.1:${SHARED_PORT}` }, { topicPrefix: t.prefix, homeAssistant: { discoveryPrefix: t.discovery } });
    try {
      await rec.waitFor('the host online', () => rec.on(`${t.prefix}/status`).some((m) => m.payload === 'online'));
      await until('the status connected', () => h.report().details?.['connected'] === true);
      expect(h.report().details?.['broker']).to.equal(`mqtt://127.0.0.1:${SHARED_PORT}`);
    } finally {
      await h.close();
      await rec.close();
      await clearRetained(SHARED_PORT, t.root);
    }
  });

  it('names MQTT_URL when the variable holds a bad URL, and keeps the host up', async () => {
    const h = await hostWith({ MQTT_URL: 'http://127.0.0.1:1883' }, {});
    try {
      const problems = h.host.pluginConfigProblems.get('mqtt')!;
      expect(problems[0]).to.include({ path: '/plugins/mqtt/config/url' });
      expect(problems[0]!.hint).to.contain('set by environment variable MQTT_URL');
      expect(h.report().state).to.equal('error');
    } finally {
      await h.close();
    }
  });

  it('marks the password secret in its schema', () => {
    expect(configSchema.properties.password).to.include({ writeOnly: true });
    expect(configSchema.properties.password.description).to.match(/never logged/);
  });

  it('docs/mqtt.md shows the discovery config the plugin sends', () => {
    const documented = docJson('### What is announced') as Record<string, unknown>;
    const driver = builtinDriver('sdm630');
    const [config] = meterDiscovery(
      { topics: new Topics('meterhub', 'homeassistant'), stateSource: 'json', qos: 1, hostName: 'house', version: '0.1.0' },
      { id: 'house', name: 'House connection', vendor: driver.definition.vendor, model: driver.definition.model, measurements: [driver.byMeasurement.get('importEnergy')!.measurement] },
    );
    expect(config!.topic).to.equal('homeassistant/sensor/meterhub_house_importEnergy/config');
    expect(config!.payload).to.deep.equal(documented);
  });

  it('docs/mqtt.md\'s Node-RED flow follows the plugin\'s state topics and its function works on a state', () => {
    const flow = docJson('## Node-RED') as Array<{ id: string; type: string; topic?: string; func?: string; broker?: string; wires?: string[][] }>;
    const ids = new Set(flow.map((n) => n.id));
    for (const node of flow) for (const target of (node.wires ?? []).flat()) expect(ids.has(target), `wire to ${target}`).to.equal(true);
    const input = flow.find((n) => n.type === 'mqtt in')!;
    expect(ids.has(input.broker!)).to.equal(true);
    const prefix = configSchema.properties.topicPrefix.default;
    const filter = new RegExp(`^${input.topic!.replace('+', '[^/]+')}$`);
    expect(new Topics(prefix, 'homeassistant').state('house')).to.match(filter);
    const fn = flow.find((n) => n.type === 'function')!;
    const run = new Function('msg', fn.func!) as (msg: unknown) => { payload: string } | null;
    expect(run({ topic: 'meterhub/house/state', payload: { ts: 0, values: { power: 3500.4 } } })!.payload).to.equal('house draws 3500 W');
    expect(run({ topic: 'meterhub/house/state', payload: { ts: 0, values: { power: 200 } } })).to.equal(null);
  });
});
