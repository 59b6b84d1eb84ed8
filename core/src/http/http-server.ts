import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { AddressInfo } from 'node:net';
import express, { type ErrorRequestHandler, type Express, type Router } from 'express';
import { describeError, httpErrorResponseText, MeterhubError, sendHttpError, type HttpHandler, type RequestClient, type UpgradeHandler } from '@meterhub/sdk';
import type { Logger } from '../logging/logger.js';
import { compileTrust, normalizeBasePath, resolveClient, type TrustFn, type TrustProxySetting } from './request-client.js';

export interface HttpServerOptions {
  port: number;
  host: string;
  allowedHosts: readonly string[];
  /** CORS_ALLOWED_ORIGINS: one policy for every route (REST, export, Socket.IO polling); empty sends no CORS headers. */
  corsAllowedOrigins?: readonly string[];
  /** http.trustProxy: whose X-Forwarded-* headers count (default: nobody's). */
  trustProxy?: TrustProxySetting;
  /** http.basePath: the prefix every route is served under ('/' or absent: the root). */
  basePath?: string;
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

const notFound = (what: string) => new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', what);
const badHost = () => new MeterhubError('METERHUB_ERR_HTTP_BAD_HOST', 'The Host header is not in ALLOWED_HOSTS');

/**
 * Django's ALLOWED_HOSTS check: `meters.local` takes that name on any port,
 * `meters.local:8000` only that port, `.example.org` the domain and its
 * subdomains, `*` anything.
 */
export function hostAllowed(hostHeader: string, allowed: readonly string[]): boolean {
  if (allowed.length === 0) return true;
  const full = hostHeader.toLowerCase();
  const name = full.replace(/:\d+$/, '').replace(/^\[|\]$/g, '');
  const withPort = full.replace(/^\[([^\]]*)\]/, '$1');
  return allowed.some((entry) => {
    const h = entry.toLowerCase();
    if (h === '*' || h === name || h === full || h === withPort) return true;
    return h.startsWith('.') && (name.endsWith(h) || name === h.slice(1));
  });
}

/**
 * The host's one HTTP server (port 8000 by default, like the old system).
 * Plugins mount handlers on it through the host API; unmounting rebuilds the
 * router so a stopped plugin's routes disappear at once. Everything is served
 * under `http.basePath`, stripped here once so no plugin prefixes its own
 * paths, and each request's client is resolved here once (`http.trustProxy`).
 */
export class HttpServer {
  readonly app: Express;
  readonly server: Server;
  #mounts: Mount[] = [];
  #upgrades: UpgradeRoute[] = [];
  #described: Array<{ paths: Record<string, Record<string, unknown>>; owner: string }> = [];
  #router: Router = express.Router();
  #trust: TrustFn = () => false;
  #basePath = '';
  // Resolved once per request or upgrade, so every reader gets the same answer.
  #clients = new WeakMap<IncomingMessage, RequestClient>();

  private opts: HttpServerOptions;

  constructor(opts: HttpServerOptions) {
    this.opts = { ...opts };
    this.app = express();
    this.app.disable('x-powered-by');
    this.#applyProxySettings();
    this.app.use(this.#checkHost);
    this.app.use(this.#withinBasePath);
    this.app.use(this.#cors);
    this.app.use((req, res, next) => this.#router(req, res, next));
    this.app.use((_req, _res, next) => next(notFound('No such resource')));
    this.app.use(this.#onError);
    this.server = createServer(this.app);
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#onUpgrade(req, socket, head));
  }

  #applyProxySettings(): void {
    const setting = this.opts.trustProxy ?? false;
    this.#trust = compileTrust(setting);
    // express gets the same setting, so `req.ip`/`req.protocol` in plugins' routers agree with client().
    this.app.set('trust proxy', typeof setting === 'number' || Array.isArray(setting) ? setting : false);
    this.#basePath = normalizeBasePath(this.opts.basePath);
  }

  /** The one resolved client of a request or upgrade (address, scheme, host), as the host API hands it to plugins. */
  client(req: IncomingMessage): RequestClient {
    let client = this.#clients.get(req);
    if (!client) {
      client = resolveClient(req, this.#trust, this.#basePath);
      this.#clients.set(req, client);
    }
    return client;
  }

  /** The prefix routes are served under: '' or e.g. '/meterhub'. */
  get basePath(): string {
    return this.#basePath;
  }

  /** The host the client addressed (X-Forwarded-Host through a trusted proxy) against ALLOWED_HOSTS. */
  #hostAllowed(req: IncomingMessage): boolean {
    if (this.opts.allowedHosts.length === 0) return true;
    return hostAllowed(this.client(req).host, this.opts.allowedHosts);
  }

  /**
   * The path below the base path, or undefined when `url` lies outside it.
   * Handlers then see the same URLs whatever the base path (express keeps the
   * full one in `req.originalUrl`).
   */
  #belowBase(url: string): string | undefined {
    if (!this.#basePath) return url;
    if (!under(url, this.#basePath) || url.split('?', 1)[0] === this.#basePath) return undefined;
    return url.slice(this.#basePath.length);
  }

  #withinBasePath: HttpHandler = (req, res, next) => {
    const url = req.url ?? '/';
    const below = this.#belowBase(url);
    if (below !== undefined) {
      req.url = below;
      next();
      return;
    }
    const q = url.indexOf('?');
    const [path, search] = q < 0 ? [url, ''] : [url.slice(0, q), url.slice(q)];
    if (path === this.#basePath) {
      // `/meterhub` → `/meterhub/`: the dashboard's relative links need the slash.
      res.statusCode = 308;
      res.setHeader('location', `${path}/${search}`);
      res.end();
      return;
    }
    next(notFound(`No such resource (this server answers under ${this.#basePath}/)`));
  };

  #onUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => socket.destroy());
    if (!this.#hostAllowed(req)) {
      socket.end(httpErrorResponseText(badHost()));
      return;
    }
    const below = this.#belowBase(req.url ?? '/');
    const route = below === undefined ? undefined : this.#upgrades.find((u) => under(below, u.path));
    if (!route) {
      socket.end(httpErrorResponseText(notFound('No WebSocket endpoint here')));
      return;
    }
    req.url = below;
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
    this.#applyProxySettings();
  }

  #checkHost: HttpHandler = (req, res, next) => {
    if (this.#hostAllowed(req)) {
      next();
      return;
    }
    sendHttpError(res, badHost());
  };

  /**
   * CORS for the origins in CORS_ALLOWED_ORIGINS, before any plugin's handler,
   * so every route answers preflights and real requests alike. Credentials
   * travel in headers (Authorization, X-API-Key), never cookies, so
   * `Allow-Credentials` is not sent.
   */
  #cors: HttpHandler = (req, res, next) => {
    const origins = this.opts.corsAllowedOrigins ?? [];
    const origin = req.headers.origin;
    if (origins.length) res.setHeader('Vary', 'Origin');
    const allowed = origin !== undefined && (origins.includes(origin) || origins.includes('*'));
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', 'Content-Disposition, Retry-After, WWW-Authenticate, Allow');
    }
    // Every OPTIONS is answered here (a preflight or not), as the REST API always did.
    if (req.method === 'OPTIONS') {
      if (allowed) {
        res.setHeader('Access-Control-Allow-Headers', 'Authorization, Content-Type, Content-Encoding, X-API-Key');
        res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS');
        res.setHeader('Access-Control-Max-Age', '600');
      }
      res.statusCode = 204;
      res.end();
      return;
    }
    next();
  };

  /** Client errors are logged at debug (anyone can send them), bugs at error; the answer comes from the SDK's one mapping. */
  #onError: ErrorRequestHandler = (err, req, res, _next) => {
    const answer = sendHttpError(res, err, { debug: this.opts.debug });
    const fields = answer.logLevel === 'error' ? { err, url: req.originalUrl } : { err: describeError(err), status: answer.status };
    this.opts.log[answer.logLevel](fields, 'request failed');
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

  /** Records OpenAPI path items a plugin documents; the returned function drops them. */
  describe(paths: Record<string, Record<string, unknown>>, owner: string): () => void {
    const entry = { paths: structuredClone(paths), owner };
    this.#described.push(entry);
    return () => {
      this.#described = this.#described.filter((d) => d !== entry);
    };
  }

  /** Every described path item, merged (a copy). */
  described(): Record<string, Record<string, unknown>> {
    const out: Record<string, Record<string, unknown>> = {};
    for (const d of this.#described) for (const [path, item] of Object.entries(d.paths)) out[path] = { ...out[path], ...structuredClone(item) };
    return out;
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
