import { expect } from 'chai';
import { request } from 'node:http';
import { connect } from 'node:net';
import { RestRig } from './rest-rig.js';

/** The fuzz's time budget: it stops sending new cases after this, whatever is left. */
const BUDGET_MS = 15_000;

type Answer = { status: number; contentType: string | undefined; body: string };

/** One request exactly as written (fetch would refuse or clean up much of this). */
function send(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer | string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, headers, insecureHTTPParser: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'], body: Buffer.concat(chunks).toString() }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Bytes straight onto a socket, for requests no HTTP client writes (broken request lines, bad chunking). */
function sendRaw(port: number, text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1', () => socket.end(text));
    let answer = '';
    socket.on('data', (c) => (answer += c.toString()));
    socket.on('close', () => resolve(answer));
    socket.on('error', () => resolve(answer));
  });
}

describe('REST API fuzz: every path and method of the OpenAPI document, malformed ids, bodies, queries and headers', function () {
  this.timeout(120000);
  let rig: RestRig;
  let token: string;
  let key: string;
  before(async () => {
    // The config meter is not polled, so nothing but the fuzz could change the stored data.
    rig = await RestRig.start('sqlite', {
      meters: [{ id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1, enabled: false }],
      http: { port: 0, corsAllowedOrigins: ['https://dash.example'] },
      plugins: { rest: { config: { bodyLimit: '64kb', login: { maxPerMinute: 1_000_000, freeFailures: 1_000_000 } } } },
    });
    token = (await rig.login()).access;
    key = (await rig.request('POST', '/api/keys/', { token, body: { name: 'fuzz', scopes: ['read', 'ingest', 'meters:write'] } })).body.key;
    await rig.host.storage!.ingestBatch([{ meterId: 'house', ts: Date.UTC(2026, 0, 1), values: { voltageL1: 230.5, power: 100 } }]);
  });
  after(() => rig.stop());

  /**
   * Every row of every table, as one string: the fuzz must leave it
   * byte-identical. Rollups are left out: the background job derives them from
   * the readings on its own schedule.
   */
  async function storedData(): Promise<string> {
    const knex = rig.host.storage!.knex;
    const tables = (await knex.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'knex_%' and name not like 'rollup%' order by name")) as Array<{ name: string }>;
    const dump: Record<string, unknown> = {};
    for (const { name } of tables) {
      const rows = (await knex(name).select('*')) as Array<Record<string, unknown>>;
      // A key's last use is bookkeeping that valid requests update, not stored data.
      dump[name] = rows.map((r) => (name === 'api_keys' ? { ...r, last_used_at: null } : r)).map((r) => JSON.stringify(r)).sort();
    }
    return JSON.stringify(dump);
  }

  it('answers everything with < 500, logs nothing at error level, and changes no stored data', async () => {
    const doc = (await rig.request('GET', '/api/schema/')).body as { paths: Record<string, Record<string, unknown>> };
    const operations = Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).map((m) => ({ path, method: m.toUpperCase() })));
    expect(operations.length).to.be.at.least(28);
    expect(operations.map((o) => o.path)).to.include('/api/export/');
    const before = await storedData();
    const logsBefore = rig.logs.length;
    const port = rig.host.http.port;

    let seed = 7;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
    const ids = ['%ZZ', '%', '%00', '%E0%A4%A', '..', '%2e%2e', '%2F', 'a'.repeat(400), '-1', '0', '1e999', '99999999999999999999', '%F0%9F%92%A5', ';x', '%22', '%3Cx%3E', 'house', 'nope'];
    const atoms: unknown[] = [null, true, 0, -1, 1e308, 2 ** 53 + 1, '', 'x', '💥', '\u0000', 'NaN', '2026-13-45T99:99', '../../etc/passwd', "' OR 1=1 --", [], {}, { $gt: '' }, 'a'.repeat(3000)];
    const value = (depth = 0): unknown => {
      const r = rand();
      if (depth > 2 || r < 0.5) return pick(atoms);
      if (r < 0.75) return Array.from({ length: Math.floor(rand() * 3) }, () => value(depth + 1));
      const keys = ['timestamp', 'values', 'power', 'id', 'driver', 'bus', 'unitId', 'username', 'password', 'refresh', 'role', 'scopes', 'name', 'enabled', '__proto__', 'constructor'];
      // A key no schema knows keeps every object body invalid, so nothing may be stored.
      return Object.fromEntries([['\u0000fuzz', 1], ...Array.from({ length: Math.floor(rand() * 4) }, () => [pick(keys), value(depth + 1)])]);
    };
    const bodies: Array<() => string | Buffer> = [
      () => JSON.stringify(value()), () => pick(['{', '[1,', '"', '{"a":', '\u0000', 'nul', '{"a":1}}', '\uFEFF{']),
      () => '['.repeat(5000), () => `{"x":"${'\\u12'.repeat(10)}"}`, () => Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
      () => 'x'.repeat(70 * 1024), () => 'username=ada&password=x',
    ];
    const queries = [
      '', 'from=%zz', 'from=1&from=2', 'a[b]=c', 'limit=-1', 'limit=1e999', 'offset=NaN', `cursor=${'9'.repeat(50)}`, 'resolution=%00', 'tz=Mars/Base',
      'period=year', 'points=0', 'measurements=,,,', `x=${'y'.repeat(8000)}`, 'format=xlsx&meters=%ZZ', 'meters=*&from=0&to=99999999999999', '%=%', '&&&=',
    ];
    const headerSets: Array<() => Record<string, string>> = [
      () => ({}),
      () => ({ 'content-type': pick(['text/plain', 'application/json; charset=latin1', 'application/json; charset=utf-99', 'multipart/form-data', 'application/x-www-form-urlencoded', '*/*', 'application/json;;;']) }),
      () => ({ 'content-type': 'application/json', 'content-encoding': pick(['gzip', 'deflate', 'br', 'gzip, gzip', 'zstd', 'identity, br', '']) }),
      () => ({ authorization: pick(['Bearer', 'Bearer ', `Bearer ${token}x`, 'Bearer a.b.c', 'Basic YWRhOng=', 'Api-Key ', `Api-Key ${'k'.repeat(5000)}`, 'Bearer \u00ff']) }),
      () => ({ 'x-api-key': pick(['', 'mh_', `mh_${'A'.repeat(90)}`, 'mh_../../']) }),
      () => ({ accept: pick(['text/html', 'application/xml', '*/*;q=abc', '']), origin: pick(['https://dash.example', 'null', 'https://evil.example']) }),
      () => ({ 'x-junk': 'j'.repeat(12_000) }),
      () => ({ 'x-junk': 'j'.repeat(70_000) }), // larger than Node's header limit: 431 from the server itself
    ];
    const auths = [{}, { authorization: `Bearer ${token}` }, { 'x-api-key': key }];

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    const deadline = Date.now() + BUDGET_MS;
    let sent = 0;
    const one = async (method: string, path: string, headers: Record<string, string>, body?: string | Buffer) => {
      let answer: Answer;
      try {
        answer = await send(port, method, path, headers, method === 'GET' || method === 'HEAD' ? undefined : body);
      } catch (err) {
        // The server may close a connection whose request it cannot parse (huge headers); that is not a 5xx.
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
        if (!/ECONNRESET|socket hang up|EPIPE/.test(String(err))) failures.push(`${method} ${path}: ${String(err)}`);
        return;
      }
      sent++;
      statuses.set(answer.status, (statuses.get(answer.status) ?? 0) + 1);
      if (answer.status >= 500) failures.push(`${method} ${path.slice(0, 120)} -> ${answer.status} ${answer.body.slice(0, 200)}`);
      const json = method !== 'HEAD' && answer.contentType?.startsWith('application/json') && answer.body ? JSON.parse(answer.body) as { error?: { code?: string } } : undefined;
      if (answer.status >= 400 && answer.status !== 431 && json && typeof json.error?.code !== 'string') failures.push(`${method} ${path}: an error without the error object`);
      // Malformed input too must get answers the OpenAPI document describes.
      try {
        rig.openApi!.check(method, path, answer.status, answer.contentType ?? null, json);
      } catch (err) {
        failures.push(String((err as Error).message).slice(0, 300));
      }
    };

    // Every operation with every malformed id, then random combinations until the budget runs out.
    for (const op of operations) {
      for (const id of op.path.includes('{id}') ? ids : ['']) {
        if (Date.now() > deadline) break;
        await one(op.method, op.path.replace('{id}', id), { ...pick(auths), 'content-type': 'application/json' }, JSON.stringify(value()));
      }
    }
    while (Date.now() < deadline && sent < 3000) {
      const op = pick(operations);
      const q = pick(queries);
      await one(op.method, `${op.path.replace('{id}', pick(ids))}${q ? `?${q}` : ''}`, { ...pick(auths), ...pick(headerSets)() }, pick(bodies)());
    }
    const rawAnswers = await Promise.all([
      'GET /api/meters/ HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n\r\n',
      'POST /api/token/ HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
      'GET /api/%ZZ HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n',
      'BREW /api/meters/ HTTP/1.1\r\nHost: x\r\n\r\n',
      'GET /api/meters/%ZZ/ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n',
    ].map((text) => sendRaw(port, text)));
    for (const answer of rawAnswers) if (/^HTTP\/1\.1 5/.test(answer)) failures.push(`raw request -> ${answer.slice(0, 80)}`);

    expect(failures, [...failures.slice(0, 5), ...rig.errorLogs(logsBefore).slice(0, 3).map((l) => JSON.stringify(l).slice(0, 600))].join("\n")).to.deep.equal([]);
    expect(sent).to.be.greaterThan(500);
    expect(statuses.get(400)).to.be.greaterThan(50);
    expect(rig.errorLogs(logsBefore).map((l) => `${l.msg} ${JSON.stringify(l).slice(0, 200)}`)).to.deep.equal([]);
    expect(await storedData()).to.equal(before);
    // Still serving: the meter and the admin work after the barrage.
    expect((await rig.request('GET', '/api/meters/house/', { token })).status).to.equal(200);
  });
});
