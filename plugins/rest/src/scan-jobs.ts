import { randomUUID } from 'node:crypto';
import { describeError, isMeterhubError, type HostApi, type UnitScanHit, type UnitScanProgress } from '@meterhub/sdk';

/** A bus scan as the API reports it. */
export interface ScanJobView {
  id: string;
  bus: string;
  state: 'running' | 'done' | 'cancelled' | 'failed';
  units: { from: number; to: number };
  progress: UnitScanProgress;
  found: UnitScanHit[];
  /** Configured meters at the unit ids found, so a client can tell new ones from known ones. */
  configured: Record<string, string>;
  startedAt: string;
  finishedAt: string | null;
  error: { code: string; message: string } | null;
}

interface Job {
  view: ScanJobView;
  abort: AbortController;
}

/** Finished scans are kept this long for clients to read their result. */
const KEEP_MS = 15 * 60_000;
const KEEP_MAX = 20;

/**
 * Scans started over the API: each runs on the host's `buses.scan` (the bus's
 * own scheduler) in the background while clients poll its progress by id.
 * Kept in memory: a scan is minutes of bus time, not data worth a table.
 */
export class ScanJobs {
  readonly #jobs = new Map<string, Job>();

  constructor(private readonly host: HostApi) {}

  /**
   * Starts a scan and answers once the host accepted it (a bad bus or unit
   * range rejects here, so the client gets the 4xx, not a failed job).
   */
  async start(bus: string, from: number, to: number, timeoutMs: number | undefined): Promise<ScanJobView> {
    this.#prune();
    const units = Array.from({ length: to - from + 1 }, (_, i) => from + i);
    const abort = new AbortController();
    const view: ScanJobView = {
      id: randomUUID(), bus, state: 'running', units: { from, to }, progress: { done: 0, total: units.length, unitId: from, found: 0 },
      found: [], configured: {}, startedAt: new Date().toISOString(), finishedAt: null, error: null,
    };
    let accepted!: () => void;
    const started = new Promise<void>((resolve) => (accepted = resolve));
    const run = this.host.buses.scan(bus, {
      units, timeoutMs, signal: abort.signal,
      onProgress: (p) => {
        view.progress = p;
        accepted();
      },
      // Shown while the scan goes on: a long scan's first finds can be added before it ends.
      onHit: (hit) => {
        view.found = [...view.found, hit];
        void this.#configured(bus, view.found).then((c) => view.state === 'running' && (view.configured = c));
      },
    });
    // The scan calls onProgress before its first request; a rejection before that is the caller's error.
    await Promise.race([started, run]);
    this.#jobs.set(view.id, { view, abort });
    run.then(async (hits) => {
      view.found = hits;
      view.configured = await this.#configured(bus, hits);
      view.state = abort.signal.aborted ? 'cancelled' : 'done';
    }, (err: unknown) => {
      view.state = 'failed';
      view.error = { code: isMeterhubError(err) ? err.code : 'METERHUB_ERR_INTERNAL', message: describeError(err) };
      this.host.log.warn({ bus, err: describeError(err) }, `scan of bus ${bus} failed`);
    }).finally(() => {
      view.finishedAt = new Date().toISOString();
    });
    return view;
  }

  get(bus: string, id: string): ScanJobView | undefined {
    const job = this.#jobs.get(id);
    return job && job.view.bus === bus ? job.view : undefined;
  }

  /** Stops a running scan before its next unit id; the units found so far stay in its result. */
  cancel(bus: string, id: string): ScanJobView | undefined {
    const job = this.#jobs.get(id);
    if (!job || job.view.bus !== bus) return undefined;
    job.abort.abort();
    return job.view;
  }

  stopAll(): void {
    for (const job of this.#jobs.values()) job.abort.abort();
  }

  async #configured(bus: string, hits: readonly UnitScanHit[]): Promise<Record<string, string>> {
    const units = new Set(hits.map((h) => h.unitId));
    const out: Record<string, string> = {};
    for (const m of await this.host.meters.list().catch(() => [])) {
      if (m.bus === bus && m.unitId !== undefined && units.has(m.unitId)) out[String(m.unitId)] = m.id;
    }
    return out;
  }

  #prune(): void {
    const now = Date.now();
    const finished = [...this.#jobs.values()].filter((j) => j.view.finishedAt !== null);
    for (const [i, j] of finished.entries()) {
      if (now - Date.parse(j.view.finishedAt!) > KEEP_MS || finished.length - i > KEEP_MAX) this.#jobs.delete(j.view.id);
    }
  }
}
