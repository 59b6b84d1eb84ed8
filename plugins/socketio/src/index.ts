import { definePlugin } from '@meterhub/sdk';
import { withHostErrors } from './engine-errors.js';
import { LiveHub } from './live-hub.js';
import { SlowClientBuffer } from './slow-client-buffer.js';
import { SocketIoChannel } from './socketio-channel.js';
import { WsChannel } from './ws-channel.js';
import { configSchema } from './config-schema.js';

export { MAX_METERS_PER_REQUEST } from './subscription.js';

interface SocketIoConfig {
  path: string;
  wsPath: string | null;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  redisKey: string;
  credentialRecheckMs: number;
}

/**
 * Live readings and meter states: Socket.IO 4 (namespace `/meters`) and a
 * plain WebSocket (`/ws/meters/`) on the host's HTTP server, authenticated
 * like the REST API, fanned out across instances through Redis when
 * `redis.url` (REDIS_URL) is set.
 */
export default definePlugin<SocketIoConfig>((host) => ({
  name: 'Live stream (Socket.IO and WebSocket)',
  configSchema,
  async start(config) {
    const hub = new LiveHub(host);
    const buffer = new SlowClientBuffer();
    host.onStop(() => buffer.close());

    const redisUrl = host.settings().redis?.url;
    // The Redis client loads only when an installation shares a Redis.
    const bridge = redisUrl ? await import('./redis-bridge.js') : undefined;
    const redis = redisUrl && bridge ? new bridge.RedisConnections(redisUrl, host) : undefined;
    if (redis) {
      host.onStop(() => redis.close());
      await redis.ready(2000);
    }

    const socketio = new SocketIoChannel(hub, host, buffer, { path: config.path, pingIntervalMs: config.pingIntervalMs, pingTimeoutMs: config.pingTimeoutMs }, redis?.adapter(config.redisKey));
    hub.attach(socketio);
    host.http.mount(config.path, (req, res) => socketio.engine.handleRequest(req as never, withHostErrors(res)));
    host.http.upgrade(config.path, (req, socket, head) => socketio.engine.handleUpgrade(req as never, socket as never, head));
    if (redis && bridge) hub.bridge = bridge.bridgeThrough(socketio.nsp, hub);

    let ws: WsChannel | undefined;
    if (config.wsPath) {
      ws = new WsChannel(hub, host, buffer, config.pingIntervalMs);
      hub.attach(ws);
      host.http.upgrade(config.wsPath, ws.handleUpgrade);
    }
    // Registered last, so it runs first at stop: clients hear why before the endpoints go.
    host.onStop(() => hub.close('METERHUB_ERR_SHUTTING_DOWN', 'the server is shutting down'));

    hub.start(config.credentialRecheckMs);
    const report = () => host.setStatusDetails({
      clients: hub.clients(),
      readings: hub.readings,
      delivered: socketio.delivered + (ws?.delivered ?? 0),
      heldBack: buffer.held,
      mergedUpdates: buffer.merged,
      clientsBehind: buffer.waitingClients,
      ...(redis ? { redis: redis.healthy ? 'connected' : 'unreachable' } : {}),
    });
    const timer = setInterval(report, 1000).unref();
    host.onStop(() => clearInterval(timer));
    report();
  },
}));
