import type { HostSample } from './host-source.js';
import { METRIC_PREFIX } from './metric-names.js';
import type { ScrapeBuilder } from './metric-family.js';

const M = (s: string) => `${METRIC_PREFIX}${s}`;

/** Error kinds of the bus link, always emitted (0 included) so `rate()` has a series from the start. */
const ERROR_KINDS = ['timeout', 'crc', 'exception', 'frame', 'connection'];

/** The host itself: build, plugins, acquisition per bus, storage, live clients, uplink. */
export function addServiceMetrics(out: ScrapeBuilder, sample: HostSample): void {
  out.add(M('build_info'), 'The meterhub version; always 1.', 'gauge', 1, { version: sample.version });
  for (const p of sample.plugins) {
    out.add(M('plugin_up'), '1 while the plugin runs (running or degraded), else 0.', 'gauge', p.state === 'running' || p.state === 'degraded' ? 1 : 0, { plugin: p.id });
  }
  for (const p of sample.plugins) {
    out.add(M('plugin_degraded'), '1 while the plugin runs impaired (see meterhub status for why).', 'gauge', p.state === 'degraded' ? 1 : 0, { plugin: p.id });
  }

  for (const bus of sample.buses) {
    const shared = { bus: bus.id };
    out.add(M('bus_connected'), '1 while the bus connection is open.', 'gauge', bus.connected ? 1 : 0, {}, shared);
    out.add(M('bus_requests_total'), 'Modbus requests sent on the bus.', 'counter', bus.requests, {}, shared);
    for (const kind of new Set([...ERROR_KINDS, ...Object.keys(bus.errors)])) {
      out.add(M('bus_errors_total'), 'Failed Modbus requests on the bus, by kind (timeout, crc, exception, frame, connection); retried requests count each try.', 'counter', bus.errors[kind] ?? 0, { kind }, shared);
    }
    out.add(M('bus_reconnects_total'), 'Times the bus connection was reopened.', 'counter', bus.reconnects, {}, shared);
    if (bus.latency) {
      const name = M('bus_request_duration_seconds');
      const help = 'Time from sending a Modbus request to its answer, successful requests only.';
      const values = out.family(name, help, 'histogram');
      bus.latency.bucketsMs.forEach((le, i) => {
        values.push({ metricName: `${name}_bucket`, value: bus.latency!.counts[i] ?? 0, labels: { le: String(le / 1000) }, sharedLabels: shared });
      });
      values.push({ metricName: `${name}_bucket`, value: bus.latency.count, labels: { le: '+Inf' }, sharedLabels: shared });
      values.push({ metricName: `${name}_sum`, value: bus.latency.sumMs / 1000, labels: {}, sharedLabels: shared });
      values.push({ metricName: `${name}_count`, value: bus.latency.count, labels: {}, sharedLabels: shared });
    }
  }

  const s = sample.storage;
  if (s) {
    if (s.pending !== undefined) out.add(M('storage_queue_readings'), 'Readings waiting to be written to the database.', 'gauge', s.pending);
    if (s.spooled !== undefined) out.add(M('storage_spool_readings'), 'Readings held in the on-disk spool while the database is unreachable.', 'gauge', s.spooled);
    if (s.stored !== undefined) out.add(M('storage_committed_readings_total'), 'Readings committed to the database since the host started.', 'counter', s.stored);
    if (s.spoolDropped !== undefined) out.add(M('storage_spool_dropped_readings_total'), 'Readings dropped because the spool was full.', 'counter', s.spoolDropped);
  }

  for (const [channel, clients] of Object.entries(sample.liveClients ?? {})) {
    out.add(M('live_clients'), 'Connected live-stream clients, by channel (socketio, ws).', 'gauge', clients, { channel });
  }

  const u = sample.uplink;
  if (u) {
    out.add(M('uplink_queue_readings'), 'Readings in the uplink outbox, waiting for the central host.', 'gauge', u.queued);
    if (u.oldestAgeSeconds !== null) out.add(M('uplink_oldest_reading_age_seconds'), 'Age of the oldest reading in the uplink outbox.', 'gauge', u.oldestAgeSeconds);
    out.add(M('uplink_sent_readings_total'), 'Readings the central host accepted.', 'counter', u.sent);
    out.add(M('uplink_rejected_readings_total'), 'Readings the central host refused (they are not retried).', 'counter', u.rejected);
    out.add(M('uplink_dropped_readings_total'), 'Instant readings dropped because the outbox was full.', 'counter', u.dropped);
  }
}
