import type { Registry } from 'prom-client';

type LabelSet = Readonly<Record<string, string>>;

/** One sample as prom-client's registry formats it; `sharedLabels` are flattened once per object and cached. */
export interface Sample {
  value: number;
  labels: LabelSet;
  sharedLabels?: LabelSet;
  /** For histogram parts: `<name>_bucket`, `_sum`, `_count`. */
  metricName?: string;
}

export type FamilyType = 'gauge' | 'counter' | 'histogram';

/**
 * A metric whose samples are computed at scrape time from the host's memory,
 * registered in a prom-client `Registry` as a custom collector: prom-client
 * formats and escapes it like its own metrics. Unlike prom-client's Counter it
 * takes an absolute value, which is what a meter's energy register is (a
 * counter the meter keeps, not one this process increments).
 */
class MetricFamily {
  values: Sample[] = [];

  constructor(readonly name: string, readonly help: string, readonly type: FamilyType) {}

  /** Called by the registry while it serialises; the array is replaced, never mutated, by the next scrape. */
  get() {
    return { name: this.name, help: this.help, type: this.type, values: this.values, aggregator: 'sum' as const };
  }

  reset(): void {
    this.values = [];
  }
}

/** The samples of one scrape, gathered by name before they are handed to the registry. */
export class ScrapeBuilder {
  readonly families = new Map<string, { help: string; type: FamilyType; values: Sample[] }>();

  /** The sample list of a family, created on first use (first-use order is the output order). */
  family(name: string, help: string, type: FamilyType): Sample[] {
    let f = this.families.get(name);
    if (!f) this.families.set(name, (f = { help, type, values: [] }));
    return f.values;
  }

  add(name: string, help: string, type: FamilyType, value: number, labels: LabelSet = {}, sharedLabels?: LabelSet): void {
    if (!Number.isFinite(value)) return;
    this.family(name, help, type).push(sharedLabels ? { value, labels, sharedLabels } : { value, labels });
  }
}

/**
 * Keeps a registry's custom families in step with the latest scrape: families
 * seen for the first time are registered, families that no longer have samples
 * (a deleted meter's last measurement) are removed, so HELP/TYPE never dangle.
 */
export class FamilySet {
  readonly #families = new Map<string, MetricFamily>();

  constructor(private readonly registry: Registry) {}

  apply(scrape: ScrapeBuilder): void {
    for (const [name, f] of scrape.families) {
      let family = this.#families.get(name);
      if (!family || family.type !== f.type) {
        if (family) this.registry.removeSingleMetric(name);
        family = new MetricFamily(name, f.help, f.type);
        this.#families.set(name, family);
        this.registry.registerMetric(family as unknown as Parameters<Registry['registerMetric']>[0]);
      }
      family.values = f.values;
    }
    for (const [name, family] of this.#families) {
      if (scrape.families.has(name)) continue;
      family.reset();
      this.registry.removeSingleMetric(name);
      this.#families.delete(name);
    }
  }
}
