/** The validated, frozen configuration as the host and plugins see it. */
import type { MeterRecord, TransportOptions } from '@meterhub/sdk';
import type { TariffsConfig } from '../tariffs/tariff-schema.js';
import type { TrustProxySetting } from '../http/request-client.js';

/** A transport kind of a loaded transport plugin (`modbus-tcp`, `rtu-over-tcp`, `rtu` are the built-in ones). */
export type TransportKind = string;

/** A bus: what the transport needs to connect, plus the scheduler's timing. */
export interface BusConfig extends TransportOptions {
  id: string;
  transport: TransportKind;
  responseTimeoutMs?: number;
  interRequestDelayMs?: number;
  unitSwitchDelayMs?: number;
  afterConnectDelayMs: number;
  retries: number;
  /** Timeout of a probe of an offline meter; the schema gives the default. */
  probeTimeoutMs?: number;
}

/** A meter as configured; the SDK's MeterRecord without where it came from. */
export type MeterConfig = Omit<MeterRecord, 'source'>;

/** A meter with a bus: the acquisition polls it. */
export type PolledMeterConfig = MeterConfig & { bus: string; driver: string; unitId: number };

/** Meters without a bus are pushed: their readings are submitted, nothing polls them. */
export const isPolled = (m: MeterConfig): m is PolledMeterConfig => m.bus !== undefined;

export interface PluginEntryConfig {
  enabled: boolean;
  required: boolean;
  config: Record<string, unknown>;
}

export interface HostConfig {
  name: string;
  dataDir: string;
  debug: boolean;
  demo: boolean;
  log: { level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent'; pretty?: boolean };
  http: { port: number; host: string; allowedHosts: string[]; corsAllowedOrigins: string[]; trustProxy: TrustProxySetting; basePath: string };
  auth: { secretKey?: string; accessTokenLifetimeMinutes: number; refreshTokenLifetimeMinutes: number };
  redis?: { url: string };
  storage: {
    client: 'sqlite' | 'postgres';
    filename?: string;
    url?: string;
    connection?: { host?: string; port?: number; database?: string; user?: string; password?: string };
    retention: { rawDays: number | null; minuteDays: number | null; hourDays: number | null; dayDays: number | null };
    ingest: { maxBatch: number; maxDelayMs: number; maxPending: number };
    spoolMaxRows: number;
    keepHistory: boolean;
  };
  pushedMeters: { staleAfterMs: number };
  /** What energy costs, per meter. */
  tariffs: TariffsConfig;
  buses: BusConfig[];
  meters: MeterConfig[];
  pluginPackages: string[];
  discovery: { allow?: string[]; deny: string[] };
  lifecycle: { loadTimeoutMs: number; startTimeoutMs: number; stopTimeoutMs: number };
  plugins: Record<string, PluginEntryConfig>;
}
