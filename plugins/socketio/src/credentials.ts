import type { IncomingMessage } from 'node:http';
import { MeterhubError, type Credentials, type Principal } from '@meterhub/sdk';

/**
 * Credentials from an HTTP request (a WebSocket upgrade or a Socket.IO
 * handshake): `Authorization: Bearer …` or `Api-Key …`, `X-API-Key`, or the
 * `token` query parameter for clients that cannot set headers (browsers'
 * WebSocket). `extra` carries Socket.IO's handshake `auth` object.
 */
export function credentialsFrom(req: Pick<IncomingMessage, 'headers' | 'url'>, extra: Record<string, unknown> = {}): Credentials {
  if (typeof extra['apiKey'] === 'string') return { apiKey: extra['apiKey'] };
  if (typeof extra['token'] === 'string') return { bearer: extra['token'] };
  const header = req.headers['x-api-key'];
  if (typeof header === 'string') return { apiKey: header };
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return { bearer: auth.slice(7).trim() };
  if (auth?.startsWith('Api-Key ')) return { apiKey: auth.slice(8).trim() };
  const query = new URL(req.url ?? '/', 'http://localhost').searchParams;
  const token = query.get('token');
  if (token) return { bearer: token };
  const key = query.get('apiKey');
  if (key) return { apiKey: key };
  return {};
}

/** The live stream is read access: any user, or an API key with the `read` scope. */
export function requireRead(principal: Principal): Principal {
  if (principal.kind === 'key' && !principal.key.scopes.includes('read')) {
    throw new MeterhubError('METERHUB_ERR_FORBIDDEN', 'this API key lacks the "read" scope');
  }
  return principal;
}

/** Epoch ms when the connection's credentials stop being valid, if they do. */
export function expiryOf(principal: Principal): number | undefined {
  return principal.kind === 'user' && principal.expiresAt > 0 ? principal.expiresAt : undefined;
}
