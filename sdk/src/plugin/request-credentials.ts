import type { IncomingMessage } from 'node:http';
import { MeterhubError } from '../errors/error-catalog.js';
import type { Credentials, Principal } from './host-services.js';

/**
 * The credentials an HTTP request carries, for `host.auth.authenticate`:
 * `X-API-Key`, `Authorization: Bearer …` or `Api-Key …`, and, with
 * `allowQuery`, a `token` or `apiKey` query parameter (browsers cannot set
 * headers on a WebSocket). `extra` is a handshake object such as Socket.IO's
 * `auth` (`{token}` or `{apiKey}`), which wins. Plugins call it per request.
 */
export function credentialsFromRequest(
  req: Pick<IncomingMessage, 'headers' | 'url'>, opts: { allowQuery?: boolean; extra?: Record<string, unknown> } = {},
): Credentials {
  const extra = opts.extra ?? {};
  if (typeof extra['apiKey'] === 'string') return { apiKey: extra['apiKey'] };
  if (typeof extra['token'] === 'string') return { bearer: extra['token'] };
  const header = req.headers['x-api-key'];
  if (typeof header === 'string') return { apiKey: header };
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { bearer: auth.slice(7).trim() };
  if (auth?.startsWith('Api-Key ')) return { apiKey: auth.slice(8).trim() };
  if (!opts.allowQuery) return {};
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const token = query.get('token');
  if (token) return { bearer: token };
  const key = query.get('apiKey');
  return key ? { apiKey: key } : {};
}

/** Read access: any user, or an API key with the `read` scope; throws METERHUB_ERR_FORBIDDEN otherwise. */
export function requireReadAccess(principal: Principal): Principal {
  if (principal.kind === 'key' && !principal.key.scopes.includes('read')) {
    throw new MeterhubError('METERHUB_ERR_FORBIDDEN', 'this API key lacks the "read" scope');
  }
  return principal;
}
