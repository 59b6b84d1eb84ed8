/**
 * Socket.IO load generator in its own process (forked with IPC), so the clients
 * do not share the server's event loop. Opens `clients` connections, subscribes
 * each (meterhub) or just listens (bare server), records for every `reading`
 * the delay from the reading's `ts` (set at publish, same machine clock) to its
 * receipt, and sends the figures back when asked.
 */
import { io, type Socket } from 'socket.io-client';

interface Options {
  url: string;
  clients: number;
  auth?: Record<string, string>;
  subscribe?: Record<string, unknown>;
}

const o = JSON.parse(process.argv[2]!) as Options;
const sockets: Socket[] = [];
const latencies: number[] = [];
let errors = 0;

async function open(): Promise<void> {
  // In small groups: a thousand simultaneous handshakes would measure the SYN backlog.
  for (let i = 0; i < o.clients; i += 25) {
    await Promise.all(Array.from({ length: Math.min(25, o.clients - i) }, () => new Promise<void>((resolve) => {
      const socket = io(o.url, { transports: ['websocket'], reconnection: false, forceNew: true, ...(o.auth ? { auth: o.auth } : {}) });
      sockets.push(socket);
      socket.on('reading', (m: { ts: number }) => {
        latencies.push(Date.now() - m.ts);
      });
      socket.on('connect_error', () => {
        errors++;
        resolve();
      });
      socket.on('connect', () => {
        if (!o.subscribe) {
          resolve();
          return;
        }
        socket.timeout(10000).emitWithAck('subscribe', o.subscribe).then((ack: { ok: boolean }) => {
          if (!ack.ok) errors++;
          resolve();
        }, () => {
          errors++;
          resolve();
        });
      });
    })));
  }
}

process.on('message', (msg: string) => {
  if (msg === 'report') {
    process.send!({ latencies, errors, connected: sockets.filter((s) => s.connected).length });
    latencies.length = 0;
  } else if (msg === 'close') {
    for (const s of sockets) s.close();
    setTimeout(() => process.exit(0), 100);
  }
});

await open();
process.send!({ ready: true, errors });
