/**
 * Reverse-proxy settings on the request path: `GET …/power/latest/` on a host
 * under `http.basePath` with `http.trustProxy` and `allowedHosts`, sent with
 * X-Forwarded-For, -Proto and -Host as a proxy sends them, beside the same
 * request to a host at the root with neither, in the same run.
 */
import { RestRig } from '../plugins/rest/test/rest-rig.js';
import { report, type BenchContext } from './bench-report.js';
import { load } from './rest-bench.js';

export async function proxyBench(ctx: BenchContext): Promise<void> {
  const seconds = ctx.smoke ? 2 : 6;
  const plain = await RestRig.start('sqlite');
  const proxied = await RestRig.start('sqlite', { http: { port: 0, basePath: '/meterhub/', trustProxy: ['127.0.0.1'], allowedHosts: ['energy.example.org', '127.0.0.1'] } });
  try {
    const request = async (rig: RestRig, extra: Record<string, string>) => {
      const { access } = await rig.login();
      await rig.waitFor('a reading of house', async () => (await rig.request('GET', '/api/meters/house/power/latest/', { token: access })).status === 200);
      return { url: `${rig.base}/api/meters/house/power/latest/`, method: 'GET', headers: { authorization: `Bearer ${access}`, ...extra }, concurrency: 32 };
    };
    const atRoot = await request(plain, {});
    const behind = await request(proxied, { 'x-forwarded-for': '192.0.2.7', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'energy.example.org' });
    // A warm-up round each, then alternating timed rounds, best of each side.
    await load({ ...behind, seconds: 1 });
    await load({ ...atRoot, seconds: 1 });
    let ours: Awaited<ReturnType<typeof load>> | undefined;
    let base: Awaited<ReturnType<typeof load>> | undefined;
    for (let round = 0; round < 2; round++) {
      const o = await load({ ...behind, seconds });
      const b = await load({ ...atRoot, seconds });
      if (!ours || o.rps > ours.rps) ours = o;
      if (!base || b.rps > base.rps) base = b;
    }
    if (!ours || !base) throw new Error('no load result');
    report(ctx, 'proxy: GET …/power/latest/ under /meterhub/ with trustProxy, allowedHosts and X-Forwarded-*',
      `${Math.round(ours.rps).toLocaleString('en')} req/s, p99 ${ours.p99.toFixed(1)} ms (${ours.errors} errors)`,
      `the same host at the root without them ${Math.round(base.rps).toLocaleString('en')} req/s, p99 ${base.p99.toFixed(1)} ms`,
      `${((ours.rps / base.rps) * 100).toFixed(0)}% (target >= 90%)`, ours.rps >= 0.9 * base.rps && ours.errors === 0);
  } finally {
    await proxied.stop();
    await plain.stop();
  }
}
