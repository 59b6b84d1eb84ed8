/**
 * Simulated collector sites for the scale benchmark, several in one process:
 * each site has meters that read once a second (generated SDM630 readings, no
 * Modbus) and forwards them through its own instance of the uplink plugin's
 * Outbox, UplinkSender and CentralClient to one central host. Not a whole host: the host's polling and bus scheduling
 * are not what is measured here, and a host per collector would not fit 2
 * cores at these counts. Reports to the parent every second: rows and values
 * the central host confirmed (it answers once they are committed), and the
 * latency from reading time to that confirmation as a histogram.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { HostApi } from '@meterhub/sdk';
import { CentralClient, type PostResult } from '../plugins/uplink/src/central-client.js';
import { Outbox, type OutboxRow } from '../plugins/uplink/src/outbox.js';
import { TargetPool } from '../plugins/uplink/src/target-pool.js';
import { UplinkSender } from '../plugins/uplink/src/uplink-sender.js';

export interface CollectorOptions {
  id: string;
  url: string;
  key: string;
  dir: string;
  /** Meters of one collector site (one uplink each); the parent says how many sites to run. */
  metersPerSite: number;
  /** Measurement ids of one reading (the SDM630's 86). */
  measurements: string[];
  batch: { maxReadings: number; maxDelayMs: number };
  /** Plays central hosts of a version without `POST /api/readings/` (answered 404 here, sent nowhere): the sender posts per meter and family, the baseline. */
  perMeter?: boolean;
}

/** What the parent gets each second (counts since the last report). */
export interface CollectorReport {
  rows: number;
  values: number;
  /** Latency histogram: bucket i counts confirmations within [i, i+1) × `bucketMs` of the reading's time. */
  latency: Array<[number, number]>;
  bucketMs: number;
  /** Submissions the central host committed (201): rows / requests is the rows each request carried. */
  requests: number;
  /** Submissions not committed: 202 (spooled on the central host), 5xx, no answer. */
  notCommitted: number;
  queued: number;
}

const BUCKET_MS = 10;

const opts = JSON.parse(process.argv[2]!) as CollectorOptions;
const fresh = (): CollectorReport => ({ rows: 0, values: 0, latency: [], bucketMs: BUCKET_MS, requests: 0, notCommitted: 0, queued: 0 });
let report = fresh();
const hist = new Map<number, number>();

/** The uplink's outbox, noting each handed-out row's reading time so its confirmation can be timed. */
class TimedOutbox extends Outbox {
  readonly #handed = new Map<number, { ts: number; values: number }>();

  #note(rows: OutboxRow[]): OutboxRow[] {
    for (const r of rows) this.#handed.set(r.id, { ts: r.ts, values: Object.keys(r.values).length });
    return rows;
  }

  override oldest(limit: number): OutboxRow[] {
    return this.#note(super.oldest(limit));
  }

  override newest(limit: number): OutboxRow[] {
    return this.#note(super.newest(limit));
  }

  override remove(ids: readonly number[]): void {
    const now = Date.now();
    for (const id of ids) {
      const row = this.#handed.get(id);
      if (!row) continue;
      this.#handed.delete(id);
      report.rows++;
      report.values += row.values;
      const b = Math.floor((now - row.ts) / BUCKET_MS);
      hist.set(b, (hist.get(b) ?? 0) + 1);
    }
    super.remove(ids);
  }
}

/** The uplink's client, counting submissions the central host did not commit. */
class CountingClient extends CentralClient {
  override async post(path: string, body: unknown): Promise<PostResult> {
    if (opts.perMeter && path === 'api/readings/') return { status: 404, body: '' };
    const result = await super.post(path, body);
    if (result.status === 201 && path !== 'api/meters/') report.requests++;
    if (result.status === 202 || result.status === 0 || result.status >= 500) report.notCommitted++;
    return result;
  }
}

const quiet = () => undefined;
// The sender needs the host's log and health calls only.
const host = { log: { info: quiet, warn: quiet, error: quiet, debug: quiet }, setDegraded: quiet, setHealthy: quiet } as unknown as HostApi;

/** One collector site: its own outbox file, keep-alive connection and sender, as one uplink plugin has. */
interface Site {
  outbox: TimedOutbox;
  client: CountingClient;
  sender: UplinkSender;
  meterIds: string[];
}

const sites: Site[] = [];

function addSite(): void {
  const n = sites.length;
  const dir = join(opts.dir, `site-${n}`);
  mkdirSync(dir, { recursive: true });
  const outbox = new TimedOutbox(join(dir, 'outbox.db'));
  const client = new CountingClient({ url: opts.url, key: opts.key, timeoutMs: 30_000 });
  const pool: TargetPool = new TargetPool([client], host, { strategy: 'failover', backoff: { initialMs: 200, maxMs: 2000 }, onUp: () => sender.wake() });
  const sender: UplinkSender = new UplinkSender(outbox, pool, host, {
    batchReadings: opts.batch.maxReadings, batchDelayMs: opts.batch.maxDelayMs, maxQueued: 2_000_000, warnAt: 0.8,
    backoff: { initialMs: 200, maxMs: 2000 },
    // As the plugin's createMeters option does: a meter the central host does not know is created as a pushed meter.
    createMeter: async (id) => {
      const res = await client.post('api/meters/', { id, source: 'push', driver: 'sdm630' });
      return res.status === 201 || res.status === 409 ? undefined : `${res.status} ${res.body.slice(0, 200)}`;
    },
  });
  sender.start();
  sites.push({ outbox, client, sender, meterIds: Array.from({ length: opts.metersPerSite }, (_, k) => `${opts.id}-s${n}-m${k}`) });
}

process.on('message', (m: { sites: number }) => {
  while (sites.length < m.sites) addSite();
});

/** An SDM630 reading: float32 values (what the meter sends), counters rising. */
function reading(k: number, ts: number): Record<string, number> {
  const values: Record<string, number> = {};
  for (const [i, m] of opts.measurements.entries()) values[m] = Math.fround(m.includes('nergy') ? 1000 + k + ts / 3.6e6 : 100 + ((k * 31 + i * 7 + ts / 1000) % 150));
  return values;
}

// Meters read one after another over the second, as on a shared RS-485 line: a tenth of them every 100 ms.
let tick = 0;
const timer = setInterval(() => {
  const slot = tick++ % 10;
  const ts = Date.now();
  for (const [i, site] of sites.entries()) {
    // Sites read at different moments of the second; meters of one site one after another.
    for (const [k, meterId] of site.meterIds.entries()) {
      if ((i + k) % 10 !== slot) continue;
      site.outbox.add({ meterId, ts, values: reading(k, ts) });
      site.sender.queued();
    }
  }
}, 100);

const flush = setInterval(() => {
  report.latency = [...hist.entries()];
  report.queued = sites.reduce((q, site) => q + site.outbox.size, 0);
  hist.clear();
  process.send?.(report);
  report = fresh();
}, 1000);

process.on('SIGTERM', () => {
  clearInterval(timer);
  clearInterval(flush);
  void Promise.all(sites.map((site) => site.sender.stop())).then(() => {
    for (const site of sites) {
      site.client.close();
      site.outbox.close();
    }
    process.exit(0);
  });
});
