import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import type { Logger } from '../logging/logger.js';

/** Event-loop delay figures in milliseconds, as `meterhub status` and `/health/` show them. */
export interface EventLoopDelay {
  /** Over the last window (`windowSeconds`), reset at the end of each. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  windowSeconds: number;
  /** The largest delay since the host started, and when it was seen. */
  worstMs: number;
  worstAt: string | null;
}

const ms = (ns: number) => Math.round(ns / 1e4) / 100;

/**
 * Watches how long the event loop is held (`perf_hooks.monitorEventLoopDelay`,
 * sampled every 10 ms). Anything that holds it delays polls, HTTP answers and
 * the live stream alike, so a delay above `warnMs` is logged as a warning,
 * at most once per window.
 */
export class EventLoopWatch {
  readonly #histogram: IntervalHistogram;
  readonly #timer: NodeJS.Timeout;
  #last: Omit<EventLoopDelay, 'worstMs' | 'worstAt' | 'windowSeconds'> = { p50Ms: 0, p99Ms: 0, maxMs: 0 };
  #worstMs = 0;
  #worstAt: string | null = null;

  constructor(private readonly log: Logger, private readonly windowMs = 10_000, private readonly warnMs = 100) {
    this.#histogram = monitorEventLoopDelay({ resolution: 10 });
    this.#histogram.enable();
    this.#timer = setInterval(() => this.#roll(), Math.min(windowMs, 1000)).unref();
  }

  #windowStart = Date.now();

  /** Checks the running window every second (so a long stall is reported soon) and closes it every `windowMs`. */
  #roll(): void {
    const max = ms(this.#histogram.max);
    if (max > this.#worstMs) {
      this.#worstMs = max;
      this.#worstAt = new Date().toISOString();
    }
    if (max > this.warnMs && max > this.#last.maxMs) {
      this.log.warn({ eventLoopDelayMs: max }, `the event loop was held for ${max} ms: polls, HTTP and the live stream waited`);
    }
    this.#last = { p50Ms: ms(this.#histogram.percentile(50)), p99Ms: ms(this.#histogram.percentile(99)), maxMs: max };
    if (Date.now() - this.#windowStart >= this.windowMs) {
      this.#histogram.reset();
      this.#windowStart = Date.now();
      this.#last = { ...this.#last, maxMs: 0 };
    }
  }

  current(): EventLoopDelay {
    const live = this.#histogram.count > 0
      ? { p50Ms: ms(this.#histogram.percentile(50)), p99Ms: ms(this.#histogram.percentile(99)), maxMs: ms(this.#histogram.max) }
      : this.#last;
    return { ...live, windowSeconds: this.windowMs / 1000, worstMs: Math.max(this.#worstMs, live.maxMs), worstAt: this.#worstAt };
  }

  close(): void {
    clearInterval(this.#timer);
    this.#histogram.disable();
  }
}
