import { expect } from 'chai';
import { httpErrorAnswer, httpErrorResponseText, MeterhubError, unavailableIfDatabaseDown } from '../src/index.js';

describe('httpErrorAnswer: the one mapping from an error to an HTTP answer', () => {
  it('field errors become DRF\'s {"<field>": [messages]} beside the meterhub object; object-level ones non_field_errors', () => {
    const err = new MeterhubError('METERHUB_ERR_VALIDATION', 'the body is not valid', {
      details: [{ path: '/unitId', message: 'must be <= 247' }, { path: '/unitId', message: 'must be an integer' }, { path: '', message: 'must be an object' }, { path: '?from', message: 'must be a time' }, { path: '/__proto__', message: 'x' }, { path: '/constructor', message: 'y' }],
    });
    const a = httpErrorAnswer(err);
    expect(a.status).to.equal(400);
    expect(a.logLevel).to.equal('debug');
    expect(a.body['unitId']).to.deep.equal(['must be <= 247', 'must be an integer']);
    expect(a.body['non_field_errors']).to.deep.equal(['must be an object']);
    expect(a.body['from']).to.deep.equal(['must be a time']);
    expect(a.body['constructor']).to.deep.equal(['y']);
    expect(JSON.parse(JSON.stringify(a.body))['__proto__']).to.deep.equal(['x']);
    expect(a.body).to.not.have.property('detail');
    expect((a.body['error'] as { code: string }).code).to.equal('METERHUB_ERR_VALIDATION');
  });

  it('other errors carry detail; bad tokens simplejwt\'s code; 401 the realm; 429 and 503 Retry-After', () => {
    const token = httpErrorAnswer(new MeterhubError('METERHUB_ERR_TOKEN_INVALID', 'the access token has expired'));
    expect(token.body).to.include({ detail: 'the access token has expired', code: 'token_not_valid' });
    expect(token.headers['www-authenticate']).to.equal('Bearer realm="api"');
    expect(httpErrorAnswer(new MeterhubError('METERHUB_ERR_UNAUTHORIZED')).body).to.not.have.property('code');
    expect(httpErrorAnswer(new MeterhubError('METERHUB_ERR_RATE_LIMITED', 'wait', { retryAfterSeconds: 12.2 })).headers['retry-after']).to.equal('13');
    const down = httpErrorAnswer(new MeterhubError('METERHUB_ERR_DATABASE_UNAVAILABLE'));
    expect(down.status).to.equal(503);
    expect(down.headers['retry-after']).to.equal('5');
    expect(down.logLevel).to.equal('warn');
  });

  it('express, router and body-parser 4xx stay 4xx at debug; anything else is a 500 at error level without internals', () => {
    const decode = Object.assign(new URIError("Failed to decode param '%ZZ'"), { status: 400 });
    expect(httpErrorAnswer(decode)).to.deep.include({ status: 400, logLevel: 'debug' });
    const gzip = Object.assign(new Error('incorrect header check'), { status: 400, code: 'Z_DATA_ERROR' });
    expect(httpErrorAnswer(gzip).body['detail']).to.match(/Content-Encoding/);
    expect(httpErrorAnswer(Object.assign(new Error('big'), { status: 413, type: 'entity.too.large' })).status).to.equal(413);
    const bug = httpErrorAnswer(new TypeError('x is undefined at /srv/secret/path.js'));
    expect(bug).to.deep.include({ status: 500, logLevel: 'error' });
    expect(JSON.stringify(bug.body)).to.not.include('secret');
    expect(JSON.stringify(httpErrorAnswer(new TypeError('boom'), { debug: true }).body)).to.include('boom');
  });

  it('writes the same answer as raw HTTP for refused upgrades', () => {
    const text = httpErrorResponseText(new MeterhubError('METERHUB_ERR_FORBIDDEN', 'no read scope'));
    expect(text).to.match(/^HTTP\/1\.1 403 Forbidden\r\n/);
    const body = JSON.parse(text.split('\r\n\r\n')[1]!);
    expect(body).to.deep.equal({ detail: 'no read scope', error: { code: 'METERHUB_ERR_FORBIDDEN', message: 'no read scope' } });
  });

  it('turns an uncoded error into a 503 only when the database does not answer', async () => {
    const driverError = new Error('connect ECONNREFUSED 127.0.0.1:5432');
    expect(await unavailableIfDatabaseDown(driverError, async () => true)).to.equal(driverError);
    const mapped = await unavailableIfDatabaseDown(driverError, async () => false);
    expect(httpErrorAnswer(mapped).status).to.equal(503);
    const coded = new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND');
    expect(await unavailableIfDatabaseDown(coded, async () => false)).to.equal(coded);
  });
});
