import type { HostApi } from '@meterhub/sdk';

/**
 * Everything a scrape reads from the host, in one place: the only file that
 * knows the shapes of `host.status()` and the plugins' status details, so a
 * change of the reading pipeline touches this adapter and nothing else.
 * Everything comes from memory (the meter registry's cache, the latest-values
 * store, counters on the status): a scrape never queries the database.
 */

export interface MeterSample {
  id: string;
  name?: string;
  /** Absent for a pushed meter that has none. */
  driver?: string;
  bus?: string;
  model?: string;
  state: string;
  /** Epoch ms of the newest reading in memory, if any. */
  lastSeen?: number;
  /** Vocabulary id -> value in vocabulary units: instant and counter values together. */
  values: Record<string, number>;
  /** Polling figures, for meters the host polls itself. */
  polling?: { cycles: number; failedCycles: number; overruns: number; invalidValues: number };
}

export interface BusSample {
  id: string;
  transport: string;
  connected: boolean;
  requests: number;
  errors: Record<string, number>;
  reconnects: number;
  latency?: { bucketsMs: readonly number[]; counts: readonly number[]; count: number; sumMs: number };
}

export interface HostSample {
  version: string;
  meters: MeterSample[];
  buses: BusSample[];
  storage?: { pending?: number; stored?: number; spooled?: number; spoolDropped?: number };
  plugins: Array<{ id: string; state: string }>;
  /** Connected live clients per channel (`socketio`, `ws`), from the live-stream plugin. */
  liveClients?: Record<string, number>;
  uplink?: { queued: number; oldestAgeSeconds: number | null; sent: number; rejected: number; dropped: number };
}

type Json = Record<string, unknown>;
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const obj = (v: unknown): Json => (v && typeof v === 'object' ? (v as Json) : {});

/** Reads one consistent-enough picture of the host: every call is synchronous except the cached meter list. */
export async function sampleHost(host: HostApi): Promise<HostSample> {
  const meters = await host.meters.list();
  const status = host.status() as Json;
  const acquisition = obj(status['acquisition']);
  const polled = new Map<string, Json>();
  for (const m of (acquisition['meters'] as Json[] | undefined) ?? []) polled.set(String(m['id']), m);
  const states = new Map(host.meterStates.current().map((s) => [s.meterId, s.state] as const));

  const meterSamples = meters.map((m): MeterSample => {
    const power = host.storage.latest(m.id, 'power');
    const energy = host.storage.latest(m.id, 'energy');
    const values = power && energy ? { ...power.values, ...energy.values } : (power ?? energy)?.values ?? {};
    const lastSeen = Math.max(power?.ts ?? -Infinity, energy?.ts ?? -Infinity);
    const p = polled.get(m.id);
    const driver = m.driver === undefined ? undefined : host.drivers.get(m.driver);
    return {
      id: m.id,
      ...(m.name ? { name: m.name } : {}),
      ...(m.driver ? { driver: m.driver } : {}),
      ...(m.bus ? { bus: m.bus } : {}),
      ...(driver ? { model: `${driver.definition.vendor} ${driver.definition.model}` } : {}),
      state: m.enabled ? states.get(m.id) ?? 'unknown' : 'disabled',
      ...(Number.isFinite(lastSeen) ? { lastSeen } : {}),
      values,
      ...(p ? { polling: { cycles: num(p['cycles']) ?? 0, failedCycles: num(p['failedCycles']) ?? 0, overruns: num(p['overruns']) ?? 0, invalidValues: num(p['invalidValues']) ?? 0 } } : {}),
    };
  });

  const buses = ((acquisition['buses'] as Json[] | undefined) ?? []).map((b): BusSample => {
    const hist = obj(b['latencyHistogram']);
    return {
      id: String(b['id']),
      transport: String(b['transport']),
      connected: b['connected'] === true,
      requests: num(b['requests']) ?? 0,
      errors: Object.fromEntries(Object.entries(obj(b['errors'])).map(([k, v]) => [k, num(v) ?? 0])),
      reconnects: num(b['reconnects']) ?? 0,
      ...(Array.isArray(hist['bucketsMs']) ? {
        latency: { bucketsMs: hist['bucketsMs'] as number[], counts: hist['counts'] as number[], count: num(hist['count']) ?? 0, sumMs: num(hist['sumMs']) ?? 0 },
      } : {}),
    };
  });

  const plugins = ((status['plugins'] as Json[] | undefined) ?? []).map((p) => ({ id: String(p['id']), state: String(p['state']), details: obj(p['details']) }));
  const live = plugins.find((p) => p.id === 'socketio')?.details['clients'];
  const uplink = plugins.find((p) => p.id === 'uplink')?.details;
  const storage = status['storage'] ? obj(status['storage']) : undefined;
  return {
    version: String(status['version'] ?? ''),
    meters: meterSamples,
    buses,
    ...(storage ? {
      storage: { pending: num(storage['pending']), stored: num(storage['stored']), spooled: num(storage['spooled']), spoolDropped: num(storage['spoolDropped']) },
    } : {}),
    plugins: plugins.map(({ id, state }) => ({ id, state })),
    ...(live && typeof live === 'object' ? { liveClients: Object.fromEntries(Object.entries(live as Json).map(([k, v]) => [k, num(v) ?? 0])) } : {}),
    ...(uplink?.['enabled'] === true ? {
      uplink: {
        queued: num(uplink['queued']) ?? 0, oldestAgeSeconds: num(uplink['oldestAgeSeconds']) ?? null,
        sent: num(uplink['sent']) ?? 0, rejected: num(uplink['rejected']) ?? 0, dropped: num(uplink['dropped']) ?? 0,
      },
    } : {}),
  };
}
