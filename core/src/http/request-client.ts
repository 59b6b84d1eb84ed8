import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import proxyaddr from 'proxy-addr';
import type { ErrorDetail, RequestClient } from '@meterhub/sdk';

/** `http.trustProxy`: false, a hop count, or the proxies' addresses and subnets (proxy-addr's syntax, as express's `trust proxy`). */
export type TrustProxySetting = boolean | number | readonly string[];

/** Decides whether the address `i` hops from this host is a proxy whose X-Forwarded-* headers count. */
export type TrustFn = (addr: string, i: number) => boolean;

/**
 * The trust function of a setting, compiled the way express compiles
 * `trust proxy` (the same setting is handed to express, so `req.ip` agrees).
 */
export function compileTrust(setting: TrustProxySetting): TrustFn {
  if (typeof setting === 'number') return (_addr, i) => i < setting;
  if (Array.isArray(setting)) return proxyaddr.compile([...setting]);
  return () => false;
}

/** Problems a schema cannot see: `true` and entries proxy-addr cannot read. */
export function trustProxyProblems(setting: TrustProxySetting): ErrorDetail[] {
  if (setting === true) {
    return [{
      path: '/http/trustProxy',
      message: 'true would believe X-Forwarded-For from any client',
      hint: 'give the proxy\'s addresses (["127.0.0.1"], ["loopback"], ["172.16.0.0/12"]) or the number of proxies in front (1)',
    }];
  }
  if (!Array.isArray(setting)) return [];
  const problems: ErrorDetail[] = [];
  setting.forEach((entry, i) => {
    try {
      proxyaddr.compile(entry);
    } catch {
      problems.push({ path: `/http/trustProxy/${i}`, message: `"${entry}" is not an IP address, a subnet (addr/bits) or loopback, linklocal, uniquelocal` });
    }
  });
  return problems;
}

/** `http.basePath` as routes use it: '' at the root, else '/meterhub' (no trailing slash). */
export function normalizeBasePath(basePath: string | undefined): string {
  return (basePath ?? '').replace(/\/+$/, '');
}

/** Segments `.` and `..` would make the prefix mean another path once a browser or proxy normalises it. */
export function basePathProblems(basePath: string | undefined): ErrorDetail[] {
  return (basePath ?? '').split('/').some((s) => s === '.' || s === '..')
    ? [{ path: '/http/basePath', message: 'must not contain . or .. segments' }]
    : [];
}

// A name, IPv4 or [IPv6] with an optional port: anything else in X-Forwarded-Host is not used to build URLs.
const HOST_PATTERN = /^(?:[A-Za-z0-9._~-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/** The first value of a comma-separated header, as express reads X-Forwarded-Proto and -Host. */
function firstValue(value: string | string[] | undefined): string | undefined {
  const raw = Array.isArray(value) ? value[0] : value;
  const first = raw?.split(',', 1)[0]?.trim();
  return first || undefined;
}

/**
 * Who sent `req` and how it reached the host. X-Forwarded-For, -Proto and
 * -Host count only when the socket's peer is a trusted proxy, so a client
 * talking to the host directly cannot choose its own address (and escape the
 * login throttle) or the host of absolute URLs.
 */
export function resolveClient(req: IncomingMessage, trust: TrustFn, basePath: string): RequestClient {
  const peer = req.socket.remoteAddress ?? '';
  const viaProxy = peer !== '' && trust(peer, 0);
  const address = peer === '' ? 'unknown' : proxyaddr(req, trust);
  let protocol: 'http' | 'https' = (req.socket as TLSSocket).encrypted ? 'https' : 'http';
  let host = firstValue(req.headers.host) ?? 'localhost';
  if (viaProxy) {
    const proto = firstValue(req.headers['x-forwarded-proto'])?.toLowerCase();
    if (proto === 'http' || proto === 'https') protocol = proto;
    const forwardedHost = firstValue(req.headers['x-forwarded-host']);
    if (forwardedHost && HOST_PATTERN.test(forwardedHost)) host = forwardedHost;
  }
  return { address, protocol, host, baseUrl: `${protocol}://${host}${basePath}` };
}
