import { expect } from 'chai';
import { RestRig } from '../../rest/test/rest-rig.js';

describe('live stream: bad Socket.IO polling requests get the host\'s one error answer', function () {
  this.timeout(30000);
  let rig: RestRig;
  before(async () => {
    rig = await RestRig.start('sqlite', { http: { port: 0, corsAllowedOrigins: ['https://dash.example'] } });
  });
  after(() => rig.stop());

  it('unknown transports, sessions and protocol versions are 400 with detail and the error object, CORS kept; a handshake still works', async () => {
    const since = rig.logs.length;
    for (const query of ['EIO=4&transport=bogus', 'EIO=4&transport=polling&sid=not-a-session', 'EIO=99&transport=polling']) {
      const r = await fetch(`${rig.base}/socket.io/?${query}`, { headers: { origin: 'https://dash.example' } });
      expect(r.status, query).to.equal(400);
      const body = await r.json() as { detail: string; error: { code: string; message: string } };
      expect(body.error.code, query).to.equal('METERHUB_ERR_VALIDATION');
      expect(body.detail, query).to.equal(body.error.message);
      expect(r.headers.get('access-control-allow-origin'), query).to.equal('https://dash.example');
    }
    const post = await fetch(`${rig.base}/socket.io/?EIO=4&transport=polling&sid=nope`, { method: 'POST', body: 'garbage' });
    expect(post.status).to.equal(400);
    expect(((await post.json()) as { error: { code: string } }).error.code).to.equal('METERHUB_ERR_VALIDATION');
    const handshake = await fetch(`${rig.base}/socket.io/?EIO=4&transport=polling`);
    expect(handshake.status).to.equal(200);
    const open = await handshake.text();
    expect(open).to.match(/^0\{"sid"/);
    // A method a polling session does not take: engine.io's 500 becomes a 405.
    const sid = (JSON.parse(open.slice(1)) as { sid: string }).sid;
    const put = await fetch(`${rig.base}/socket.io/?EIO=4&transport=polling&sid=${sid}`, { method: 'PUT', body: 'x' });
    expect(put.status).to.equal(405);
    expect(((await put.json()) as { error: { code: string } }).error.code).to.equal('METERHUB_ERR_METHOD_NOT_ALLOWED');
    expect(rig.errorLogs(since)).to.deep.equal([]);
  });
});
