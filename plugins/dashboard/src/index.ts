import { fileURLToPath } from 'node:url';
import { definePlugin } from '@meterhub/sdk';
import { loadAssets } from './asset-store.js';
import { dashboardHandler } from './dashboard-handler.js';
import { configSchema } from './config-schema.js';

/**
 * The web dashboard at `/`: a static single-page app that uses only the public
 * API (REST, the Socket.IO live stream, the export endpoint), like any other
 * client. `plugins.dashboard.enabled: false` turns it off.
 */
export default definePlugin((host) => ({
  name: 'Web dashboard',
  configSchema,
  start() {
    const assets = loadAssets(fileURLToPath(new URL('./web/', import.meta.url)));
    host.http.mount('/', dashboardHandler(assets, { needsFirstAdmin: async () => (await host.accounts.users.count()) === 0, client: (req) => host.http.client(req) }));
    host.setStatusDetails({ files: assets.size });
  },
}));
