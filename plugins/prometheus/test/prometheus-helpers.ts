import { spawnSync } from 'node:child_process';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';

export interface ParsedFamily {
  name: string;
  help: string;
  type: string;
  metrics: Array<{ value?: string; labels?: Record<string, string>; buckets?: Record<string, string>; count?: string; sum?: string }>;
}

/** GETs the metrics over real HTTP. */
export async function scrape(base: string, path = '/metrics', headers: Record<string, string> = {}) {
  const res = await fetch(`${base}${path}`, { headers });
  return { status: res.status, contentType: res.headers.get('content-type'), headers: res.headers, text: await res.text() };
}

/** Parses the exposition with an independent parser (parse-prometheus-text-format), keyed by family name. */
export function parseExposition(text: string): Map<string, ParsedFamily> {
  const families = parsePrometheusTextFormat(text) as ParsedFamily[];
  return new Map(families.map((f) => [f.name, f]));
}

/** The value of one sample whose labels are exactly `labels`. */
export function sampleValue(families: Map<string, ParsedFamily>, name: string, labels: Record<string, string>): number | undefined {
  const wanted = JSON.stringify(Object.entries(labels).sort());
  const hit = families.get(name)?.metrics.find((m) => JSON.stringify(Object.entries(m.labels ?? {}).sort()) === wanted);
  return hit?.value === undefined ? undefined : Number(hit.value);
}

/**
 * Runs Prometheus' own `promtool check metrics` (parse + lint) on the text.
 * Returns its output; fails the test with the package to install when promtool is missing.
 */
export function promtoolCheck(text: string): { status: number | null; output: string } {
  const run = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 30000 });
  if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') {
    throw new Error('promtool is not installed: install the Debian package "prometheus" (apt-get install prometheus)');
  }
  if (run.error) throw run.error;
  return { status: run.status, output: `${run.stdout}${run.stderr}`.trim() };
}
