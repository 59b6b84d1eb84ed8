import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import { describeError, isMeterhubError, type HttpHandler } from '@meterhub/sdk';
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

/**
 * The host's one HTTP server (port 8000 by default, like the old system).
 * Plugins mount handlers on it through the host API; unmounting rebuilds the
 * router so a stopped plugin's routes disappear at once.
 */
export class HttpServer {
  readonly app: Express;
  readonly server: Server;
  #mounts: Mount[] = [];
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
  }

  /** Applies the validated config; the server is built before validation so plugins can mount early. */
  configure(opts: Omit<HttpServerOptions, 'log'>): void {
    this.opts = { ...this.opts, ...opts };
  }

  #checkHost: HttpHandler = (req, res, next) => {
    if (this.opts.allowedHosts.length === 0) {
      next();
      return;
    }
    const host = (req.headers.host ?? '').replace(/:\d+$/, '').replace(/^\[|\]$/g, '').toLowerCase();
    if (this.opts.allowedHosts.some((h) => h === '*' || h.toLowerCase() === host || (h.startsWith('.') && host.endsWith(h.toLowerCase())))) {
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
    for (const m of this.#mounts) router.use(m.path, m.handler as express.RequestHandler);
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

  mounts(): Array<{ path: string; owner: string }> {
    return this.#mounts.map(({ path, owner }) => ({ path, owner }));
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
