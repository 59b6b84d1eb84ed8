import { chmod, mkdir, rm } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import { join } from 'node:path';
import { MeterhubError, sendHttpError } from '@meterhub/sdk';

/** Where a running host listens for local admin commands (`meterhub status`). */
export function controlSocketPath(dataDir: string): string {
  return join(dataDir, 'meterhub.sock');
}

/**
 * A local-only HTTP endpoint on a Unix socket in the data dir. File permissions
 * (0600, owner only) are its authentication: whoever may read the data dir may
 * ask the host for its status, nobody on the network can.
 */
export class ControlSocket {
  #server: Server | undefined;

  constructor(private readonly path: string, private readonly routes: Record<string, () => unknown>) {}

  async listen(): Promise<void> {
    await mkdir(join(this.path, '..'), { recursive: true });
    // A socket file left by a killed host would block listen().
    await rm(this.path, { force: true });
    this.#server = createServer((req, res) => {
      const route = this.routes[req.url ?? ''];
      if (!route || req.method !== 'GET') {
        sendHttpError(res, new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', 'No such resource'));
        return;
      }
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(route()));
    });
    await new Promise<void>((resolve, reject) => {
      this.#server!.once('error', reject);
      this.#server!.listen(this.path, () => resolve());
    });
    await chmod(this.path, 0o600);
  }

  async close(): Promise<void> {
    const server = this.#server;
    if (!server) return;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(this.path, { force: true });
  }
}

/** Asks a running host over its control socket; a coded error when none is running. */
export function queryControlSocket(path: string, route: string, timeoutMs = 3000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: path, path: route, method: 'GET', timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const notRunning = err.code === 'ENOENT' || err.code === 'ECONNREFUSED';
      reject(new MeterhubError('METERHUB_ERR_HOST_NOT_RUNNING', notRunning
        ? `no running host found at ${path}; is \`meterhub start\` running with the same config?`
        : `cannot query the host at ${path}: ${err.message}`));
    });
    req.end();
  });
}
