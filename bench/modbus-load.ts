/**
 * A Modbus TCP load generator in its own process, so the client cost does not
 * land on the server's event loop: N connections, each with one read in
 * flight (FC 04), for a fixed time. A bare MBAP client on `net`, the lightest
 * there is, so the figures are about the server.
 * Prints JSON: {requests, seconds, rps, p50, p99, errors}.
 * usage: node --import tsx modbus-load.ts '{"port":…,"unit":…,"address":…,"count":…,"clients":…,"seconds":…}'
 */
import { connect, type Socket } from 'node:net';

interface Options { port: number; unit: number; address: number; count: number; clients: number; seconds: number }

const o = JSON.parse(process.argv[2]!) as Options;
const latencies: number[] = [];
let errors = 0;
const deadline = performance.now() + o.seconds * 1000;
const replyLength = 9 + o.count * 2;

function runClient(): Promise<void> {
  return new Promise((resolve) => {
    const sock: Socket = connect({ host: '127.0.0.1', port: o.port, noDelay: true });
    let tid = 0;
    let pending = Buffer.alloc(0);
    let sentAt = 0;
    const request = Buffer.alloc(12);
    request.writeUInt16BE(6, 4);
    request[6] = o.unit;
    request[7] = 0x04;
    request.writeUInt16BE(o.address, 8);
    request.writeUInt16BE(o.count, 10);
    const send = () => {
      if (performance.now() >= deadline) {
        sock.end();
        return;
      }
      tid = (tid + 1) & 0xffff;
      request.writeUInt16BE(tid, 0);
      sentAt = performance.now();
      sock.write(request);
    };
    sock.on('connect', send);
    sock.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 6) {
        const frame = 6 + pending.readUInt16BE(4);
        if (pending.length < frame) return;
        const ok = frame === replyLength && pending.readUInt16BE(0) === tid && pending[7] === 0x04;
        pending = pending.subarray(frame);
        latencies.push(performance.now() - sentAt);
        if (!ok) errors++;
        send();
      }
    });
    sock.on('error', () => {
      errors++;
      resolve();
    });
    sock.on('close', () => resolve());
  });
}

const start = performance.now();
await Promise.all(Array.from({ length: o.clients }, runClient));
const seconds = (performance.now() - start) / 1000;
latencies.sort((a, b) => a - b);
const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
console.log(JSON.stringify({ requests: latencies.length, seconds, rps: latencies.length / seconds, p50: at(0.5), p99: at(0.99), errors }));
