import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import { describeError, isMeterhubError, type HttpHandler, type UpgradeHandler } from '@meterhub/sdk';
import type { Logger } from '../logging/logger.js';

export interface HttpServerOptions {
  port: number;
  host: string;
  allowedHosts: readonly string[];
  debug: boolean;
  log: Logger;
}

interface Mount {
  path: string;
  handler: HttpHandler;
  owner: string;
}

interface UpgradeRoute {
  path: string;
  handler: UpgradeHandler;
  owner: string;
}

/** True when `url`'s path is `base` or lies below it (`/ws/meters` takes `/ws/meters/` and `/ws/meters/?token=…`). */
function under(url: string, base: string): boolean {
  const path = url.split('?', 1)[0]!;
  const prefix = base.endsWith('/') ? base.slice(0, -1) : base;
  return path === prefix || path.startsWith(`${prefix}/`);
}

function refuseUpgrade(socket: Duplex, status: number, code: string, message: string): void {
  const body = JSON.stringify({ error: { code, message } });
  socket.end(`HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : 'Bad Request'}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/**
 * The host's one HTTP server (port 8000 by default, like the old system).
 * Plugins mount handlers on it through the host API; unmounting rebuilds the
 * router so a stopped plugin's routes disappear at once.
 */
export class HttpServer {
  readonly app: Express;
  readonly server: Server;
  #mounts: Mount[] = [];
  #upgrades: UpgradeRoute[] = [];
  #router: Router = express.Router();

  private opts: HttpServerOptions;

  constructor(opts: HttpServerOptions) {
    this.opts = { ...opts };
    this.app = express();
    this.app.disable('x-powered-by');
    this.app.set('trust proxy', false);
    this.app.use(this.#checkHost);
    this.app.use((req, res, next) => this.#router(req, res, next));
    this.app.use((_req, res) => {
      res.status(404).json({ error: { code: 'METERHUB_ERR_HTTP_NOT_FOUND', message: 'No such resource' } });
    });
    this.app.use(this.#onError);
    this.server = createServer(this.app);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
  }

  #hostAllowed(req: IncomingMessage): boolean {
    if (this.opts.allowedHosts.length === 0) return true;
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
    return this.opts.allowedHosts.some((h) => h === '*' || h.toLowerCase() === host || (h.startsWith('.') && host.endsWith(h.toLowerCase())));
  }

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (!this.#hostAllowed(req)) {
      refuseUpgrade(socket, 400, 'METERHUB_ERR_HTTP_BAD_HOST', 'The Host header is not in ALLOWED_HOSTS');
      return;
    }
    const route = this.#upgrades.find((u) => under(req.url ?? '/', u.path));
    if (!route) {
      refuseUpgrade(socket, 404, 'METERHUB_ERR_HTTP_NOT_FOUND', 'No WebSocket endpoint here');
      return;
    }
    try {
      route.handler(req, socket, head);
    } catch (err) {
      this.opts.log.error({ err: describeError(err), owner: route.owner }, 'upgrade handler failed');
      socket.destroy();
    }
  }

  /** Applies the validated config; the server is built before validation so plugins can mount early. */
  configure(opts: Omit<HttpServerOptions, 'log'>): void {
    this.opts = { ...this.opts, ...opts };
  }

  #checkHost: HttpHandler = (req, res, next) => {
    if (this.#hostAllowed(req)) {
      next();
      return;
    }
    res.statusCode = 400;
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ error: { code: 'METERHUB_ERR_HTTP_BAD_HOST', message: 'The Host header is not in ALLOWED_HOSTS' } }));
  };

  #onError: ErrorRequestHandler = (err, req, res, _next) => {
    const status = Number((err as { status?: number }).status ?? (err as { statusCode?: number }).statusCode) || 500;
    if (status >= 500) this.opts.log.error({ err, url: req.originalUrl }, 'request failed');
    const code = isMeterhubError(err) ? err.code : status >= 500 ? 'METERHUB_ERR_INTERNAL' : 'METERHUB_ERR_HTTP';
    const message = status >= 500 && !this.opts.debug ? 'Internal error' : describeError(err);
    const body: Record<string, unknown> = { code, message };
    if (isMeterhubError(err) && err.details.length) body['details'] = err.details;
    if (this.opts.debug && err instanceof Error) body['stack'] = err.stack;
    if (!res.headersSent) res.status(status).json({ error: body });
    else res.end();
  };

  #rebuild(): void {
    const router = express.Router();
    // The most specific path first, so `/socket.io` is not shadowed by a plugin mounted at `/`.
    const ordered = [...this.#mounts].sort((a, b) => b.path.length - a.path.length);
    for (const m of ordered) router.use(m.path, m.handler as express.RequestHandler);
    this.#router = router;
  }

  /** Mounts `handler` under `path`; the returned function unmounts it. */
  mount(path: string, handler: HttpHandler, owner: string): () => void {
    const mount = { path, handler, owner };
    this.#mounts.push(mount);
    this.#rebuild();
    return () => {
      this.#mounts = this.#mounts.filter((m) => m !== mount);
      this.#rebuild();
    };
  }

  /** Sends upgrade requests for `path` (and below) to `handler`; the returned function removes it. */
  upgrade(path: string, handler: UpgradeHandler, owner: string): () => void {
    const route = { path, handler, owner };
    this.#upgrades = [...this.#upgrades, route].sort((a, b) => b.path.length - a.path.length);
    return () => {
      this.#upgrades = this.#upgrades.filter((u) => u !== route);
    };
  }

  mounts(): Array<{ path: string; owner: string; upgrade?: true }> {
    return [
      ...this.#mounts.map(({ path, owner }) => ({ path, owner })),
      ...this.#upgrades.map(({ path, owner }) => ({ path, owner, upgrade: true as const })),
    ];
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(this.opts.port, this.opts.host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.port;
  }

  get port(): number {
    return (this.server.address() as AddressInfo | null)?.port ?? this.opts.port;
  }

  async close(): Promise<void> {
    if (!this.server.listening) return;
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
