/** Latency percentiles over the most recent samples (a fixed ring, no allocation per sample). */
export class LatencyStats {
  readonly #ring: Float64Array;
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
