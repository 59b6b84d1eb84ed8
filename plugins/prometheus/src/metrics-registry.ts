import { collectDefaultMetrics, Registry } from 'prom-client';
import type { HostSample } from './host-source.js';
import { FamilySet, ScrapeBuilder } from './metric-family.js';
import { addMeterMetrics } from './meter-metrics.js';
import { addServiceMetrics } from './service-metrics.js';

/**
 * Process and Node.js metrics (`process_*`, `nodejs_*`, including the event-loop
 * delay `nodejs_eventloop_lag_*`). prom-client starts an event-loop monitor and a
 * GC observer for them that it never stops, and they describe the process, not
 * a host: one registry per process, shared by every host in it.
 */
let processRegistry: Registry | undefined;
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry });
    // prom-client names three gauges `nodejs_active_*_total`, which promtool's lint rejects (`_total` is for
    // counters); the same figures remain by type in `nodejs_active_handles`, `nodejs_active_requests`, `nodejs_active_resources`.
    for (const metric of processRegistry.getMetricsAsArray()) {
      if (metric.name.endsWith('_total') && (metric.type as unknown) !== 'counter') processRegistry.removeSingleMetric(metric.name);
    }
  }
  return processRegistry;
}

/** The meterhub metrics of one host, serialised by prom-client in the text format 0.0.4. */
export class MetricsRegistry {
  readonly #registry = new Registry();
  readonly #families = new FamilySet(this.#registry);

  constructor(private readonly withProcessMetrics: boolean) {
    if (withProcessMetrics) processMetrics();
  }

  /** `text/plain; version=0.0.4; charset=utf-8`. */
  get contentType(): string {
    return this.#registry.contentType;
  }

  /** The exposition of one sample of the host. Cost: meters x measurements, independent of stored history. */
  async render(sample: HostSample, now = Date.now()): Promise<string> {
    const scrape = new ScrapeBuilder();
    addServiceMetrics(scrape, sample);
    addMeterMetrics(scrape, sample.meters, now);
    this.#families.apply(scrape);
    // Both calls take their samples synchronously before their first await, so a concurrent scrape cannot mix in.
    const [own, process] = await Promise.all([this.#registry.metrics(), this.withProcessMetrics ? processMetrics().metrics() : '']);
    return own + process;
  }
}
