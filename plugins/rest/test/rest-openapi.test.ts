import { expect } from 'chai';
import SwaggerParser from '@apidevtools/swagger-parser';
import { RestRig } from './rest-rig.js';

type Op = { responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }> };

describe('REST API: the OpenAPI document describes every answer, and /api/docs/ shows it', function () {
  this.timeout(60000);
  let rig: RestRig;
  let doc: { openapi: string; paths: Record<string, Record<string, Op>> };
  before(async () => {
    rig = await RestRig.start('sqlite');
    doc = (await rig.request('GET', '/api/schema/')).body;
  });
  after(() => rig.stop());

  it('is a valid OpenAPI 3.1 document for a real validator (swagger-parser)', async () => {
    const api = await SwaggerParser.validate(structuredClone(doc) as never) as unknown as { openapi: string };
    expect(api.openapi).to.equal('3.1.0');
  });

  it('documents a success schema for every operation, 204 for DELETE and revoke, and the error statuses', () => {
    const ops = Object.entries(doc.paths).flatMap(([path, item]) => Object.entries(item).map(([method, op]) => ({ path, method, op })));
    expect(ops.length).to.be.at.least(27);
    for (const { path, method, op } of ops) {
      const where = `${method} ${path}`;
      const success = Object.keys(op.responses).filter((s) => /^2/.test(s));
      expect(success.length, where).to.be.at.least(1);
      if (method === 'delete' || path === '/api/token/revoke/') expect(success[0], where).to.equal('204');
      else if (method !== 'head') expect(Object.values(op.responses[success[0]!]!.content ?? {})[0]?.schema, where).to.be.an('object');
      expect(op.responses, where).to.include.keys(['400', '405', '503', 'default']);
      if (path.includes('{id}')) expect(op.responses, where).to.have.property('404');
    }
    expect(doc.paths['/api/token/']!['post']!.responses).to.have.property('429');
    for (const [path, method] of [['/api/meters/', 'post'], ['/api/meters/{id}/', 'put'], ['/api/meters/{id}/', 'patch'], ['/api/meters/{id}/', 'delete'], ['/api/users/{id}/', 'patch'], ['/api/users/{id}/', 'delete']] as const) {
      expect(doc.paths[path]![method]!.responses, `${method} ${path}`).to.have.property('409');
    }
    const exp = doc.paths['/api/export/']!['get']!;
    expect(exp.responses['200']!.content).to.have.property('text/csv; charset=utf-8');
    expect((exp as unknown as { parameters: Array<{ name: string }> }).parameters.map((p) => p.name)).to.include.members(['meters', 'from', 'to', 'format', 'resolution']);
  });

  it('the test hook rejects an answer that drifts from the document', () => {
    const check = rig.openApi!;
    expect(() => check.check('GET', '/api/meters/house/power/latest/', 200, 'application/json', { meter: 'house', timestamp: 'x', values: { power: 'high' } })).to.throw(/documented schema/);
    expect(() => check.check('GET', '/api/meters/', 418, 'application/json', { detail: 'x', error: { code: 'METERHUB_ERR_X', message: 'x' } })).to.not.throw(); // `default`: an error body…
    expect(() => check.check('GET', '/api/meters/', 418, 'application/json', { nope: 1 })).to.throw(/documented schema/); // …that must be the error shape
    expect(() => check.check('DELETE', '/api/keys/1/', 200, 'application/json', {})).to.throw(/does not list/);
    expect(() => check.check('GET', '/health/', 200, 'application/json', { status: 'ok', database: { reachable: true } })).to.not.throw();
  });

  it('serves a readable reference at /api/docs/ from the host, without a CDN', async () => {
    const page = await fetch(`${rig.base}/api/docs/`);
    expect(page.status).to.equal(200);
    const html = await page.text();
    expect(html).to.include('swagger-ui');
    expect(html).to.not.match(/https?:\/\//);
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui-standalone-preset.js', 'swagger-ui.css', 'init.js']) {
      const r = await fetch(`${rig.base}/api/docs/${asset}`);
      expect(r.status, asset).to.equal(200);
      expect((await r.arrayBuffer()).byteLength, asset).to.be.greaterThan(10);
    }
    expect((await fetch(`${rig.base}/api/docs/package.json`)).status).to.equal(404);
  });
});
