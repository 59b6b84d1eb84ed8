/**
 * The MQTT benchmark's receiving end, in its own process so its CPU is not
 * the host's: subscribes to a topic root and measures, per message, the time
 * from the reading (its `ts`, carried in the JSON state or, in values mode, in
 * the marker measurement's value) to receipt.
 */
import mqtt from 'mqtt';

const { url, root, marker } = JSON.parse(process.argv[2]!) as { url: string; root: string; marker: string };
const latencies: number[] = [];
let states = 0;
let values = 0;
let configs = 0;
const seen = new Set<string>();
let duplicates = 0;

const client = await mqtt.connectAsync(url, { clientId: `mhbench-sub-${process.pid}` });
client.on('message', (topic, payload) => {
  const now = Date.now();
  if (topic.endsWith('/config')) {
    if (payload.length) configs++;
    return;
  }
  if (topic.endsWith('/state')) {
    states++;
    const ts = (JSON.parse(payload.toString()) as { ts: number }).ts;
    const key = `${topic}@${ts}`;
    if (seen.has(key)) duplicates++;
    seen.add(key);
    latencies.push(now - ts);
  } else if (!topic.endsWith('/availability') && !topic.endsWith('/status')) {
    values++;
    if (topic.endsWith(`/${marker}`)) latencies.push(now - Number(payload.toString()));
  }
});
await client.subscribeAsync(`${root}/#`, { qos: 0 });
process.send!({ ready: true });
process.on('message', (m: { report?: boolean }) => {
  if (!m.report) return;
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (p: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((sorted.length - 1) * p))]! : NaN);
  process.send!({ states, values, configs, duplicates, p50: at(0.5), p99: at(0.99) });
});
process.on('disconnect', () => void client.endAsync(true).then(() => process.exit(0)));
