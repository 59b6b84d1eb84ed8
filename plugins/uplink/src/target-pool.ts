import type { HostApi } from '@meterhub/sdk';
import type { CentralClient } from './central-client.js';

export type Strategy = 'failover' | 'round-robin';

/** One central host as `meterhub status` shows it. */
export interface TargetStatus {
  server: string;
  state: 'up' | 'down';
  current: boolean;
  batches: number;
  readings: number;
  lastSuccess: string | null;
  lastError: { message: string; at: string } | null;
  /** While down: when it is probed next. */
  probeAt: string | null;
}

export interface Target {
  readonly client: CentralClient;
}

interface TargetState extends Target {
  state: 'up' | 'down';
  /** Failures since the last confirmed batch: the back-off grows with them and a probe alone does not reset it. */
  failures: number;
  batches: number;
  readings: number;
  lastSuccess: string | null;
  lastError: { message: string; at: string } | null;
  probeAt: number | null;
  timer: NodeJS.Timeout | undefined;
}

export interface PoolOptions {
  strategy: Strategy;
  backoff: { initialMs: number; maxMs: number };
  /** Called when a target that was down answers again, so a sender waiting for one goes on at once. */
  onUp: () => void;
}

/**
 * The central hosts a collector may send to, in the configured order. A
 * target that fails (no answer, timeout, 5xx, 429) is marked down and left
 * alone for a back-off that doubles with each failure (with jitter); then it
 * is probed with a GET of its `/health/` in the background, so a black-holed
 * host costs the live data no timeouts. Any answer but a 5xx or 429 brings it
 * back. `failover` sends to the first target that is up, so the preferred
 * host gets the traffic back as soon as a probe finds it; `round-robin` turns
 * through the targets that are up, one batch each.
 */
export class TargetPool {
  readonly #targets: TargetState[];
  #turn = 0;
  #current: TargetState | undefined;
  #closed = false;

  constructor(clients: readonly CentralClient[], private readonly host: HostApi, private readonly opts: PoolOptions) {
    this.#targets = clients.map((client) => ({
      client, state: 'up', failures: 0, batches: 0, readings: 0, lastSuccess: null, lastError: null, probeAt: null, timer: undefined,
    }));
  }

  get size(): number {
    return this.#targets.length;
  }

  /** The target for the next batch, skipping those tried in this round; undefined when none is up. */
  pick(tried: ReadonlySet<Target> = new Set()): Target | undefined {
    const n = this.#targets.length;
    const start = this.opts.strategy === 'round-robin' ? this.#turn : 0;
    for (let i = 0; i < n; i++) {
      const t = this.#targets[(start + i) % n]!;
      if (t.state !== 'up' || tried.has(t)) continue;
      if (this.opts.strategy === 'round-robin') this.#turn = (start + i + 1) % n;
      return t;
    }
    return undefined;
  }

  /** Rows the target confirmed. */
  delivered(target: Target, rows: number): void {
    const t = target as TargetState;
    t.failures = 0;
    t.readings += rows;
    t.lastSuccess = new Date().toISOString();
    this.#current = t;
  }

  /** A whole batch went through this target. */
  batchDone(target: Target): void {
    (target as TargetState).batches++;
  }

  /** The target did not answer, or answered 5xx or 429: down until a probe finds it back. */
  failed(target: Target, message: string, fallback: Target | undefined): void {
    const t = target as TargetState;
    t.lastError = { message, at: new Date().toISOString() };
    if (t.state === 'down') return;
    t.state = 'down';
    const meanwhile = fallback ? `sending to ${fallback.client.origin} meanwhile` : 'retrying with back-off';
    this.host.log.warn({ server: t.client.origin }, `uplink to ${t.client.origin} failed; ${meanwhile}`);
    this.#scheduleProbe(t);
  }

  #scheduleProbe(t: TargetState): void {
    if (this.#closed) return;
    t.failures++;
    const base = Math.min(this.opts.backoff.maxMs, this.opts.backoff.initialMs * 2 ** Math.min(30, t.failures - 1));
    const delay = base / 2 + Math.random() * base / 2;
    t.probeAt = Date.now() + delay;
    t.timer = setTimeout(() => void this.#probe(t), delay);
    t.timer.unref();
  }

  async #probe(t: TargetState): Promise<void> {
    t.timer = undefined;
    const res = await t.client.get('health/');
    if (this.#closed) return;
    // Any answer but an overload or a server error: it is back (a 404 from a proxy that hides /health/ included); the next batch decides.
    if (res.status >= 200 && res.status < 500 && res.status !== 429) {
      t.state = 'up';
      t.probeAt = null;
      this.host.log.info({ server: t.client.origin }, `${t.client.origin} answers again`);
      this.opts.onUp();
      return;
    }
    t.lastError = { message: res.status ? `${t.client.origin}/health/ answered ${res.status}` : `${t.client.origin} unreachable: ${res.error}`, at: new Date().toISOString() };
    this.#scheduleProbe(t);
  }

  anyUp(): boolean {
    return this.#targets.some((t) => t.state === 'up');
  }

  /** Origins of the targets that are down. */
  down(): string[] {
    return this.#targets.filter((t) => t.state === 'down').map((t) => t.client.origin);
  }

  status(): { server: string; targets: TargetStatus[] } {
    const current = this.#current ?? this.#targets[0]!;
    return {
      server: current.client.origin,
      targets: this.#targets.map((t) => ({
        server: t.client.origin, state: t.state, current: t === current, batches: t.batches, readings: t.readings,
        lastSuccess: t.lastSuccess, lastError: t.lastError, probeAt: t.probeAt === null ? null : new Date(t.probeAt).toISOString(),
      })),
    };
  }

  close(): void {
    this.#closed = true;
    for (const t of this.#targets) clearTimeout(t.timer);
  }
}
