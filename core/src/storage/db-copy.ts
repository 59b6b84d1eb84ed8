import type { MeasurementFamily } from '@meterhub/sdk';
import { MeterhubError } from '@meterhub/sdk';
import type { Knex } from 'knex';
import type { StorageTarget } from './knex-factory.js';
import { forEachPacked, packValues } from './packed-values.js';
import { FAMILIES, RESOLUTIONS, rawTable, rollupTable, type PackedRow } from './reading-store.js';
import { packAggregates, unpackAggregates } from './rollups.js';
import type { StorageService } from './storage-service.js';

/** `sqlite:./data/meterhub.db`, `sqlite:/abs.db`, `./x.db`, or `postgres://user:pass@host:5432/db`. */
export function parseDatabaseUrl(url: string, cwd: string): StorageTarget {
  if (/^postgres(ql)?:\/\//.test(url)) return { engine: 'postgres', connection: url };
  const path = url.replace(/^sqlite:(\/\/)?/, '');
  if (!path) throw new MeterhubError('METERHUB_ERR_CONFIG_INVALID', `"${url}" is not a database URL (sqlite:PATH or postgres://…)`);
  return { engine: 'sqlite', filename: path.startsWith('/') ? path : `${cwd}/${path}` };
}

export interface CopyProgress {
  (table: string, done: number, total: number): void;
}

export interface CopyReport {
  meters: number;
  users: number;
  apiKeys: number;
  tariffs: number;
  rows: Record<string, { source: number; target: number }>;
}

const CHUNK = 5000;

async function count(knex: Knex, table: string): Promise<number> {
  const row = await knex(table).count({ n: '*' }).first() as { n: number | string } | undefined;
  return Number(row?.n ?? 0);
}

/**
 * Copies everything from one database to another (engines may differ):
 * meters, users, API keys and tariffs by their natural keys, then raw readings and
 * rollups with meter refs and measurement codes remapped, in chunks. Writing
 * goes through the target's merge semantics, so a copy can be re-run after an
 * interruption. Row counts are compared at the end.
 */
export async function copyDatabase(from: StorageService, to: StorageService, progress: CopyProgress = () => undefined): Promise<CopyReport> {
  const report: CopyReport = { meters: 0, users: 0, apiKeys: 0, tariffs: 0, rows: {} };
  const refMap = new Map<number, number>();
  for (const m of await from.meters.list()) {
    const [copied] = await to.meters.upsertFromConfig([m.config]);
    await to.knex('meters').where({ ref: copied!.ref }).update({ source: m.source });
    refMap.set(m.ref, copied!.ref);
    report.meters++;
  }
  const userMap = new Map<number, number>();
  for (const u of await from.knex('users').select() as Array<Record<string, unknown> & { id: number; username: string }>) {
    const { id, ...row } = u;
    await to.knex('users').insert(row).onConflict('username').merge();
    userMap.set(id, ((await to.knex('users').where({ username: u.username }).first()) as { id: number }).id);
    report.users++;
  }
  for (const k of await from.knex('api_keys').select() as Array<Record<string, unknown> & { created_by: number | null }>) {
    const { id: _id, ...row } = k;
    await to.knex('api_keys').insert({ ...row, created_by: k.created_by === null ? null : userMap.get(k.created_by) ?? null }).onConflict('digest').ignore();
    report.apiKeys++;
  }
  // Tariffs made over the API and the assignments, by id: the copy prices as the source did.
  for (const t of await from.tariffs.list()) {
    if (!(await to.tariffs.insert(t))) await to.tariffs.replace(t);
    report.tariffs++;
  }
  const assignments = await from.tariffs.assignments();
  if (assignments.default !== undefined) await to.tariffs.assign(undefined, assignments.default);
  for (const [meter, tariff] of Object.entries(assignments.meters)) await to.tariffs.assign(meter, tariff);

  await to.codes.ensure((await from.knex('measurement_codes').select('measurement') as Array<{ measurement: string }>).map((r) => r.measurement));
  const codeMap = (code: number): number => to.codes.code(from.codes.id(code)!)!;
  const remapRaw = (data: Buffer): Buffer => {
    const entries: Array<[number, number]> = [];
    forEachPacked(data, (c, v) => entries.push([codeMap(c), v]));
    return packValues(entries.sort((a, b) => a[0] - b[0]));
  };
  const remapRollup = (family: MeasurementFamily, data: Buffer): Buffer =>
    packAggregates(family, new Map([...unpackAggregates(family, data)].map(([c, a]) => [codeMap(c), a])));

  for (const family of FAMILIES) {
    const table = rawTable(family);
    const total = await count(from.knex, table);
    let done = 0;
    for (const [srcRef, dstRef] of refMap) {
      for (let after = -Infinity; ;) {
        const rows = await from.store.raw(family, srcRef, after === -Infinity ? Number.MIN_SAFE_INTEGER : after + 1, Number.MAX_SAFE_INTEGER, CHUNK);
        if (rows.length === 0) break;
        await to.store.write([{ family, rows: rows.map((r): PackedRow => ({ meterRef: dstRef, ts: r.ts, data: remapRaw(r.data) })) }]);
        done += rows.length;
        after = rows[rows.length - 1]!.ts;
        progress(table, done, total);
      }
    }
    report.rows[table] = { source: total, target: await count(to.knex, table) };

    const rtable = rollupTable(family);
    const rtotal = await count(from.knex, rtable);
    let rdone = 0;
    for (const resolution of Object.keys(RESOLUTIONS) as Array<keyof typeof RESOLUTIONS>) {
      for (const [srcRef, dstRef] of refMap) {
        const rows = await from.store.rollups(family, srcRef, resolution, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER, 10_000_000);
        for (let i = 0; i < rows.length; i += CHUNK) {
          const chunk = rows.slice(i, i + CHUNK).map((r) => ({ meterRef: dstRef, ts: r.ts, data: remapRollup(family, r.data) }));
          await to.store.writeRollups(family, resolution, chunk);
          rdone += chunk.length;
          progress(rtable, rdone, rtotal);
        }
      }
    }
    report.rows[rtable] = { source: rtotal, target: await count(to.knex, rtable) };
  }
  // Rollups came across as they were; the dirty marks of the copied raw rows are already covered.
  await to.store.clearDirty(await to.store.claimDirty(10_000_000));
  return report;
}
