/**
 * The one reading pipeline: how fast a submitted reading goes live beside a
 * polled one, and what a backfill does to the event loop beside an idle host.
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { RestRig } from '../plugins/rest/test/rest-rig.js';
import { SioClient } from '../plugins/socketio/test/live-clients.js';
import { backfillUnderPolling } from '../test-support/backfill-run.js';
import { report, type BenchContext } from './bench-report.js';

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN;
};
const f = (n: number) => n.toFixed(1);

async function liveLatency(ctx: BenchContext): Promise<void> {
  const rig = await RestRig.start('sqlite', { meters: [{ id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1, intervals: { instantMs: 250, counterMs: 60000 } }] });
  const clients: SioClient[] = [];
  try {
    const token = (await rig.login()).access;
    await rig.request('POST', '/api/meters/', { token, body: { id: 'pushed' } });
    for (let i = 0; i < 100; i++) clients.push(new SioClient(rig.base, { token }));
    await Promise.all(clients.map((c) => c.connected()));
    await Promise.all(clients.map((c) => c.subscribe({ meters: ['house', 'pushed'] })));
    // Receipt times per reading, recorded as each client's message arrives (clients live in this process, like the host).
    const received = new Map<string, number[]>();
    for (const c of clients) c.socket.on('reading', (m: { meterId: string; ts: number }) => {
      const key = `${m.meterId}@${m.ts}`;
      (received.get(key) ?? received.set(key, []).get(key)!).push(performance.now());
    });
    const published = new Map<string, number>();
    rig.host.readings.subscribe((r) => {
      if (r.meterId === 'house') published.set(`house@${r.ts}`, performance.now());
    });
    const rounds = ctx.smoke ? 20 : 200;
    const pushed: number[] = [];
    const fromSend: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const ts = Date.now() + i;
      const sent = performance.now();
      const res = await rig.request('POST', '/api/meters/pushed/power/', { token, body: { timestamp: ts, values: { power: i } } });
      const ok = performance.now();
      if (res.status !== 201) throw new Error(`submission refused: ${res.status}`);
      const key = `pushed@${ts}`;
      const deadline = Date.now() + 5000;
      while ((received.get(key)?.length ?? 0) < clients.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 1));
      // Delivery starts before the commit the 2xx waits for: a receipt before the 2xx counts as 0.
      for (const t of received.get(key) ?? []) {
        pushed.push(Math.max(0, t - ok));
        fromSend.push(t - sent);
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    const polled: number[] = [];
    for (const [key, t0] of published) for (const t of received.get(key) ?? []) polled.push(t - t0);
    const p99 = pct(pushed, 99);
    const base99 = pct(polled, 99);
    report(ctx, `pipeline: push-to-live, HTTP 2xx to receipt by 100 Socket.IO clients (${rounds} readings)`,
      `p50 ${f(pct(pushed, 50))} ms, p99 ${f(p99)} ms (request sent to receipt: p50 ${f(pct(fromSend, 50))} ms, p99 ${f(pct(fromSend, 99))} ms)`, `polled publish-to-receipt p50 ${f(pct(polled, 50))} ms, p99 ${f(base99)} ms`,
      `${(p99 / base99).toFixed(2)}x (target p99 <= 1.5x the polled path)`, p99 <= 1.5 * base99);
  } finally {
    clients.forEach((c) => c.close());
    await rig.stop();
  }
}

async function backfillLoop(ctx: BenchContext): Promise<void> {
  const rig = await RestRig.start('sqlite', {
    meters: [
      { id: 'house', driver: 'sdm630', bus: 'sim', unitId: 1, intervals: { instantMs: 1000, counterMs: 1000 } },
      { id: 'flat', driver: 'sdm230', bus: 'sim', unitId: 2, intervals: { instantMs: 1000, counterMs: 1000 } },
    ],
  });
  try {
    const token = (await rig.login()).access;
    await rig.request('POST', '/api/meters/', { token, body: { id: 'archive' } });
    const idle = monitorEventLoopDelay({ resolution: 5 });
    idle.enable();
    await new Promise((r) => setTimeout(r, ctx.smoke ? 2000 : 5000));
    idle.disable();
    const readings = ctx.smoke ? 50_000 : 1_000_000;
    const b = await backfillUnderPolling(rig, token, 'archive', readings, ['house', 'flat']);
    const missed = b.missedPolls['house']! + b.missedPolls['flat']!;
    report(ctx, `pipeline: event-loop delay during a backfill of ${readings.toLocaleString('en')} readings with history, consumption and export reads (${f(b.seconds)} s)`,
      `p99 ${f(b.loop.p99Ms)} ms, max ${f(b.loop.maxMs)} ms (CPU-busy part: p99 ${f(b.busy.p99Ms)} ms, max ${f(b.busy.maxMs)} ms), ${missed} missed polls`, `idle host p99 ${f(idle.percentile(99) / 1e6)} ms, max ${f(idle.max / 1e6)} ms`,
      'target p99 < 50 ms and 0 missed polls', b.loop.p99Ms < 50 && missed === 0);
  } finally {
    await rig.stop();
  }
}

export async function pipelineBench(ctx: BenchContext): Promise<void> {
  await liveLatency(ctx);
  await backfillLoop(ctx);
}
