import { definePlugin } from '@meterhub/sdk';
import { sampleHost } from './host-source.js';
import { metricsHandler, type MetricsAccess } from './metrics-endpoint.js';
import { configSchema } from './config-schema.js';

export { METRIC_BY_MEASUREMENT, type MetricMapping } from './metric-names.js';

interface PrometheusConfig {
  access?: MetricsAccess;
  path: string;
  processMetrics: boolean;
}

/**
 * Prometheus metrics at `/metrics` on the host's HTTP server: meter values in
 * base units, meter states, acquisition, storage, live clients, uplink and the
 * process. Off until `access` is set, so nothing is exposed by default.
 */
export default definePlugin<PrometheusConfig>((host) => ({
  name: 'Prometheus metrics',
  configSchema,
  async start(config) {
    if (!config.access) {
      host.setStatusDetails({ enabled: false, hint: 'set plugins.prometheus.config.access to "authenticated" or "public" to serve /metrics' });
      return;
    }
    // prom-client loads only when metrics are served (off by default).
    const { MetricsRegistry } = await import('./metrics-registry.js');
    const registry = new MetricsRegistry(config.processMetrics);
    let scrapes = 0;
    host.http.mount(config.path, metricsHandler(host, config.access, async () => {
      const body = await registry.render(await sampleHost(host));
      scrapes++;
      return { contentType: registry.contentType, body };
    }));
    const report = () => host.setStatusDetails({ enabled: true, path: config.path, access: config.access, scrapes });
    const timer = setInterval(report, 1000).unref();
    host.onStop(() => clearInterval(timer));
    report();
    host.log.info({ path: config.path, access: config.access }, `serving Prometheus metrics at ${config.path}`);
  },
}));
