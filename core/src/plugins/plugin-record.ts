import {
  describeError, isMeterhubError,
  type ErrorCode, type ErrorDetail, type PluginInstance, type PluginState, type PluginStatusReport,
} from '@meterhub/sdk';
import { DisposerStack } from './disposer-stack.js';
import type { PackageEntry } from './manifest.js';

/** The host's record of one plugin: what it is, its state, and what it registered. */
export class PluginRecord {
  readonly id: string;
  readonly entry: PackageEntry;
  readonly disposers = new DisposerStack();
  state: PluginState = 'loaded';
  message: string | undefined;
  error: { code: string; message: string; at: string; details?: readonly ErrorDetail[] } | undefined;
  lastError: { message: string; at: string } | undefined;
  details: Record<string, unknown> = {};
  instance: PluginInstance | undefined;
  /** The plugin's schemas, from its instance or, for a host that only checks a config, from its manifest's schema module. */
  schemas: Pick<PluginInstance, 'configSchema' | 'transports'> | undefined;

  constructor(entry: PackageEntry) {
    this.id = entry.id;
    this.entry = entry;
  }

  get dependencies(): readonly string[] {
    return this.entry.manifest.dependencies ?? [];
  }

  /** Callbacks into the plugin run only while it is starting or running. */
  acceptsCallbacks(): boolean {
    return this.state === 'starting' || this.state === 'running' || this.state === 'degraded';
  }

  get active(): boolean {
    return this.acceptsCallbacks();
  }

  fail(code: ErrorCode, err: unknown): void {
    const details = isMeterhubError(err) ? err.details : undefined;
    this.state = 'error';
    this.error = {
      code,
      message: describeError(err),
      at: new Date().toISOString(),
      ...(details && details.length ? { details } : {}),
    };
  }

  /** A failure that does not end the plugin (one bad HTTP request). */
  noteError(err: unknown): void {
    this.lastError = { message: describeError(err), at: new Date().toISOString() };
  }

  setDegraded(message: string): void {
    // Also while starting: a plugin may find its remote service down in start() and still run.
    if (this.state === 'starting' || this.state === 'running' || this.state === 'degraded') {
      this.state = 'degraded';
      this.message = message;
    }
  }

  setHealthy(message?: string): void {
    if (this.state === 'degraded') this.state = 'running';
    this.message = message;
  }

  report(): PluginStatusReport & { id: string; package: string; version: string; origin: string } {
    return {
      id: this.id,
      package: this.entry.name,
      version: this.entry.version,
      origin: this.entry.origin,
      state: this.state,
      ...(this.message ? { message: this.message } : {}),
      ...(this.error ? { error: this.error } : {}),
      ...(Object.keys(this.details).length ? { details: this.details } : {}),
    };
  }
}
