import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import type { RestRig } from '../plugins/rest/test/rest-rig.js';

/** What a backfill under polling did to the host: event-loop delay and the polled meters' cycles. */
export interface BackfillFigures {
  readings: number;
  seconds: number;
  loop: { p50Ms: number; p99Ms: number; maxMs: number };
  /**
   * The same delay counting only time this process spent on a CPU: each gap
   * between 5 ms ticks is capped by the CPU time used in it. On a shared,
   * overloaded machine a process also waits for a CPU; that wait is not work
   * holding the loop. Process-wide CPU (worker threads included): an upper bound.
   */
  busy: { p99Ms: number; maxMs: number };
  /** Per polled meter: gaps of more than 1.5 poll periods between stored rows while the backfill ran. */
  missedPolls: Record<string, number>;
  polls: Record<string, number>;
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/**
 * Submits `readings` readings of the pushed meter `meterId` over HTTP in
 * batches of 1000 (two requests in flight, as a collector's replay or an
 * import would), then runs history (auto and raw), consumption and a paged
 * export read over them, while the rig's meters are polled every second.
 * Measures the event-loop delay of the host's process throughout.
 */
export async function backfillUnderPolling(rig: RestRig, token: string, meterId: string, readings: number, polled: readonly string[]): Promise<BackfillFigures> {
  const start = Date.UTC(2024, 0, 1);
  const histogram = monitorEventLoopDelay({ resolution: 5 });
  const t0 = Date.now();
  histogram.enable();
  const gaps: number[] = [];
  let lastTick = performance.now();
  let lastCpu = process.cpuUsage();
  const ticker = setInterval(() => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    gaps.push(Math.max(0, Math.min(now - lastTick, (cpu.user + cpu.system) / 1000) - 5));
    lastTick = now;
    lastCpu = process.cpuUsage();
  }, 5);
  let next = 0;
  const BATCH = 1000;
  await Promise.all([0, 1].map(async () => {
    for (let b = next; b < readings; b = next) {
      next += BATCH;
      const body = Array.from({ length: Math.min(BATCH, readings - b) }, (_, i) => ({ timestamp: start + (b + i) * 1000, values: { power: 100 + ((b + i) % 50), voltageL1: 230 } }));
      const res = await rig.request('POST', `/api/meters/${meterId}/power/`, { token, body });
      if (res.status !== 201) throw new Error(`batch at ${b}: ${res.status} ${JSON.stringify(res.body).slice(0, 200)}`);
      const energy = body.filter((_, i) => i % 60 === 0).map((r, i) => ({ timestamp: r.timestamp, values: { importEnergy: (b / 60 + i) * 0.01 } }));
      if ((await rig.request('POST', `/api/meters/${meterId}/energy/`, { token, body: energy })).status !== 201) throw new Error('energy batch refused');
    }
  }));
  const to = new Date(start + readings * 1000).toISOString();
  const from = new Date(start).toISOString();
  for (const q of [`power/history/?from=${from}&to=${to}`, `power/history/?from=${from}&to=${new Date(start + 3_600_000).toISOString()}&resolution=raw`, `energy/consumption/?period=day&from=${from}&to=${to}`]) {
    const res = await rig.request('GET', `/api/meters/${meterId}/${q}`, { token });
    if (res.status !== 200) throw new Error(`${q}: ${res.status}`);
  }
  let rows = 0;
  for await (const page of rig.host.storage!.pages(meterId, { family: 'power', from: start, to: start + readings * 1000, resolution: '1m' })) rows += page.length;
  if (rows === 0) throw new Error('the export read no rows');
  histogram.disable();
  clearInterval(ticker);
  gaps.sort((a, b) => a - b);
  const t1 = Date.now();
  const missedPolls: Record<string, number> = {};
  const polls: Record<string, number> = {};
  for (const id of polled) {
    const history = await rig.host.storage!.history(id, { family: 'power', from: t0 + 1500, to: t1 - 1500, resolution: 'raw' });
    const ts = history.points.map((p) => p.ts);
    polls[id] = ts.length;
    missedPolls[id] = ts.slice(1).filter((t, i) => t - ts[i]! > 1500).length;
  }
  return {
    readings, seconds: (t1 - t0) / 1000, missedPolls, polls,
    loop: { p50Ms: ms(histogram.percentile(50)), p99Ms: ms(histogram.percentile(99)), maxMs: ms(histogram.max) },
    busy: { p99Ms: Math.round(gaps[Math.floor(gaps.length * 0.99)]! * 100) / 100, maxMs: Math.round(gaps.at(-1)! * 100) / 100 },
  };
}
