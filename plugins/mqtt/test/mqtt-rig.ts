import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import mqtt, { type MqttClient } from 'mqtt';
import { Host } from '../../../core/src/host.js';
import { createLogger } from '../../../core/src/logging/logger.js';

/** The shared broker every engineer's tests use: tests stay on their own topic roots and clean up after themselves. */
export const SHARED_PORT = 1883;

/** Fails with the Debian package to install when a tool is missing. */
export function requireTool(command: string, debianPackage: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${command}`]).status === 0;
  if (!found) throw new Error(`${command} is missing: install the Debian package "${debianPackage}"`);
}

/** A fresh topic root per test: `<root>/meterhub` for states, `<root>/homeassistant` for discovery. */
export function testRoot(): { root: string; prefix: string; discovery: string } {
  const root = `mhtest-${randomBytes(5).toString('hex')}`;
  return { root, prefix: `${root}/meterhub`, discovery: `${root}/homeassistant` };
}

export interface Received {
  topic: string;
  payload: string;
  retain: boolean;
  at: number;
}

/** Retained messages under `root/#` as a fresh `mosquitto_sub` sees them (retain flag from the broker, not the client library). */
export function retainedWithMosquittoSub(port: number, root: string): Map<string, string> {
  requireTool('mosquitto_sub', 'mosquitto-clients');
  // Retained messages come right after the subscription; -W ends the wait a second later (exit status 27).
  const run = spawnSync('mosquitto_sub', ['-h', '127.0.0.1', '-p', String(port), '-t', `${root}/#`, '--retained-only', '-W', '1', '-F', '%r\t%t\t%p'], { encoding: 'utf8' });
  if (run.status !== 0 && run.status !== 27) throw new Error(`mosquitto_sub failed (${run.status}): ${run.stderr}`);
  const out = run.stdout;
  const map = new Map<string, string>();
  for (const line of out.split('\n').filter(Boolean)) {
    const [flag, topic, ...rest] = line.split('\t');
    if (flag !== '1') throw new Error(`--retained-only printed a non-retained message: ${line}`);
    map.set(topic!, rest.join('\t'));
  }
  return map;
}

/**
 * Removes every retained message under `root/#`, so no test or benchmark leaves anything on the shared
 * broker. The broker sends a subscriber the retained messages right after the subscription, but not
 * necessarily all of them (its per-client queue is bounded): collect until none came for 300 ms, empty
 * those, and subscribe again until a pass finds none.
 */
export async function clearRetained(port: number, root: string): Promise<void> {
  for (let pass = 0; pass < 20; pass++) {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `mhtest-clean-${randomBytes(4).toString('hex')}` });
    const topics = new Set<string>();
    let last = Date.now();
    client.on('message', (topic, payload, packet) => {
      if (packet.retain && payload.length) topics.add(topic);
      last = Date.now();
    });
    await client.subscribeAsync(`${root}/#`, { qos: 1 });
    while (Date.now() - last < 300) await new Promise((r) => setTimeout(r, 50));
    await client.unsubscribeAsync(`${root}/#`);
    await Promise.all([...topics].map((topic) => client.publishAsync(topic, '', { qos: 1, retain: true })));
    await client.endAsync();
    if (topics.size === 0) return;
  }
  throw new Error(`retained messages under ${root}/ kept coming back`);
}

/** An independent subscriber (a second mqtt client) that records everything under a root. */
export class Recorder {
  readonly messages: Received[] = [];
  readonly client: MqttClient;

  private constructor(client: MqttClient) {
    this.client = client;
    client.on('message', (topic, payload, packet) => this.messages.push({ topic, payload: payload.toString(), retain: packet.retain, at: Date.now() }));
  }

  static async start(port: number, filter: string): Promise<Recorder> {
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: `mhtest-rec-${randomBytes(4).toString('hex')}`, reconnectPeriod: 100 });
    const recorder = new Recorder(client);
    await client.subscribeAsync(filter, { qos: 1 });
    return recorder;
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  async waitFor(what: string, predicate: (messages: Received[]) => boolean, timeoutMs = 15000): Promise<void> {
    await until(what, () => predicate(this.messages), timeoutMs);
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export async function until(what: string, predicate: () => boolean | Promise<boolean>, timeoutMs = 15000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

export const silentLogger = () => createLogger({ level: 'silent', pretty: false });

export async function startHost(config: Record<string, unknown>, root: string): Promise<Host> {
  const host = new Host({ config, cwd: root, env: {}, logger: silentLogger() });
  await host.start();
  return host;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise((r) => server.close(r));
  return port;
}

/** A private Mosquitto on its own port (for tests that stop the broker; the shared one is never touched). */
export class PrivateBroker {
  #child: ChildProcess | undefined;

  /** `listeners`: more mosquitto.conf lines (listeners of their own); the first listener is plain and anonymous. */
  constructor(readonly port: number, private readonly dir: string, private readonly listeners = '') {}

  async start(): Promise<void> {
    requireTool('mosquitto', 'mosquitto');
    const conf = join(this.dir, `mosquitto-${this.port}.conf`);
    writeFileSync(conf, `per_listener_settings true\npersistence false\nlistener ${this.port} 127.0.0.1\nallow_anonymous true\n${this.listeners}`);
    const child = spawn('mosquitto', ['-c', conf], { stdio: 'ignore' });
    this.#child = child;
    await until(`mosquitto on port ${this.port}`, async () => {
      if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}`);
      return new Promise<boolean>((r) => {
        const c = mqtt.connect(`mqtt://127.0.0.1:${this.port}`, { reconnectPeriod: 0, connectTimeout: 500 });
        const done = (up: boolean) => {
          r(up);
          c.end(true);
        };
        c.once('connect', () => done(true));
        c.once('error', () => done(false));
        c.once('close', () => done(false));
      });
    }, 10000);
  }

  async stop(): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.#child = undefined;
  }
}

/** A private CA and a certificate for 127.0.0.1 signed by it, made with openssl for this test run. */
export function makeCertificates(dir: string): { caFile: string; keyFile: string; certFile: string } {
  requireTool('openssl', 'openssl');
  const p = (f: string) => join(dir, f);
  const ssl = (...args: string[]) => {
    const run = spawnSync('openssl', args, { stdio: 'ignore' });
    if (run.status !== 0) throw new Error(`openssl ${args[0]} failed`);
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('ca.key'), '-out', p('ca.pem'), '-days', '2', '-subj', '/CN=meterhub mqtt test CA');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', p('server.key'), '-out', p('server.csr'), '-subj', '/CN=127.0.0.1');
  writeFileSync(p('ext.cnf'), 'subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n');
  ssl('x509', '-req', '-in', p('server.csr'), '-CA', p('ca.pem'), '-CAkey', p('ca.key'), '-CAcreateserial', '-out', p('server.pem'), '-days', '2', '-extfile', p('ext.cnf'));
  return { caFile: p('ca.pem'), keyFile: p('server.key'), certFile: p('server.pem') };
}
