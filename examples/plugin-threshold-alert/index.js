import { AlertRule } from './alert-rule.js';

/**
 * Threshold alerts: when a measurement (power by default) rises above a limit,
 * POST a JSON body to a webhook. Written in plain JavaScript with types from
 * @meterhub/sdk, to show that a plugin needs no build step.
 *
 * @type {import('@meterhub/sdk').PluginFactory<{ url: string, measurement: string, above: number, hysteresis: number, meters?: string[], timeoutMs: number }>}
 */
export default function thresholdAlert(host) {
  const sent = { alerts: 0, failures: 0 };
  return {
    name: 'Threshold alert (webhook)',
    configSchema: {
      type: 'object',
      additionalProperties: false,
      required: ['url', 'above'],
      properties: {
        url: { type: 'string', pattern: '^https?://', description: 'Webhook that receives the alert as JSON.' },
        measurement: { type: 'string', default: 'power', description: 'A measurement id of the vocabulary.' },
        above: { type: 'number', description: 'Alert when the value rises above this, in the measurement\'s unit.' },
        hysteresis: { type: 'number', minimum: 0, default: 0, description: 'Re-arm once the value is this far below the limit.' },
        meters: { type: 'array', items: { type: 'string' }, description: 'Only these meters; all when absent.' },
        timeoutMs: { type: 'integer', minimum: 100, default: 5000 },
      },
    },
    start(config) {
      const rule = new AlertRule(config);
      host.setStatusDetails(sent);
      host.readings.subscribe(async (reading) => {
        const alert = rule.check(reading);
        if (!alert) return;
        try {
          const res = await fetch(config.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ type: 'threshold-alert', ...alert }),
            signal: AbortSignal.timeout(config.timeoutMs),
          });
          if (!res.ok) throw new Error(`the webhook answered ${res.status}`);
          sent.alerts++;
          host.setHealthy();
          host.log.info(alert, `${alert.meterId}: ${alert.measurement} ${alert.value} above ${alert.limit}`);
        } catch (err) {
          // A webhook that is down degrades the plugin; the host and other plugins carry on.
          sent.failures++;
          host.setDegraded(`webhook failed: ${err instanceof Error ? err.message : String(err)}`);
        }
        host.setStatusDetails(sent);
      });
    },
  };
}
