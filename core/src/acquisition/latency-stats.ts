/** Upper bounds (ms) of the latency histogram: a Modbus request takes from ~5 ms (TCP) to a timeout of seconds (RS485). */
export const LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000]);

/** Cumulative counts since start: `counts[i]` samples took at most `LATENCY_BUCKETS_MS[i]`; `count` is all of them (+Inf). */
export interface LatencyHistogram {
  bucketsMs: readonly number[];
  counts: number[];
  count: number;
  sumMs: number;
}

/**
 * Latency percentiles over the most recent samples (a fixed ring, no allocation
 * per sample), and a histogram over all samples since start, for scrapers that
 * compute their own quantiles over time (Prometheus).
 */
export class LatencyStats {
  readonly #ring: Float64Array;
  /** Per bucket, not cumulative (the last slot is above every bound); summed when read. */
  readonly #buckets = new Float64Array(LATENCY_BUCKETS_MS.length + 1);
  #total = 0;
  #sumMs = 0;
  #count = 0;
  #next = 0;
  /** Status is read far more often than it changes per request; sort once per new sample. */
  #cached: ReturnType<LatencyStats['percentiles']> | undefined;

  constructor(size = 512) {
    this.#ring = new Float64Array(size);
  }

  add(ms: number): void {
    this.#ring[this.#next] = ms;
    this.#next = (this.#next + 1) % this.#ring.length;
    this.#count = Math.min(this.#count + 1, this.#ring.length);
    this.#cached = undefined;
    let i = 0;
    while (i < LATENCY_BUCKETS_MS.length && ms > LATENCY_BUCKETS_MS[i]!) i++;
    this.#buckets[i]!++;
    this.#total++;
    this.#sumMs += ms;
  }

  histogram(): LatencyHistogram {
    const counts: number[] = [];
    let running = 0;
    for (let i = 0; i < LATENCY_BUCKETS_MS.length; i++) counts.push((running += this.#buckets[i]!));
    return { bucketsMs: LATENCY_BUCKETS_MS, counts, count: this.#total, sumMs: this.#sumMs };
  }

  /** p50/p95/p99 in milliseconds, rounded to 0.1 ms; nulls before the first sample. */
  percentiles(): { p50: number | null; p95: number | null; p99: number | null; samples: number } {
    if (this.#count === 0) return { p50: null, p95: null, p99: null, samples: 0 };
    if (this.#cached) return { ...this.#cached };
    const sorted = Array.from(this.#ring.subarray(0, this.#count)).sort((a, b) => a - b);
    const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]! * 10) / 10;
    this.#cached = { p50: at(0.5), p95: at(0.95), p99: at(0.99), samples: this.#count };
    return { ...this.#cached };
  }
}
