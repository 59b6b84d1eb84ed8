import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { MeterhubError, type AccountsApi, type ApiKeyView, type Scope, type UserView } from '@meterhub/sdk';
import type { TokenClaims, TokenService } from './token-service.js';

/** Who is calling: a user with a token, or an API key. */
export type Principal = { kind: 'user'; user: UserView } | { kind: 'key'; key: ApiKeyView };

/**
 * What a route requires. `read`: any user, or a key with `read`. `admin`: an
 * admin user. `ingest` and `meters:write`: an admin user or a key with that scope.
 */
export type Access = 'public' | 'read' | 'admin' | 'ingest' | 'meters:write';

export interface AuthedRequest extends IncomingMessage {
  principal?: Principal;
}

function apiKeyFrom(req: IncomingMessage): string | undefined {
  const header = req.headers['x-api-key'];
  if (typeof header === 'string') return header;
  const auth = req.headers.authorization;
  if (auth?.startsWith('Api-Key ')) return auth.slice(8).trim();
  return undefined;
}

function allowed(p: Principal, access: Access): boolean {
  if (access === 'public') return true;
  if (p.kind === 'user') return access === 'read' || p.user.role === 'admin';
  return access !== 'admin' && p.key.scopes.includes(access as Scope);
}

/**
 * Builds the middleware that authenticates requests: passport-jwt for access
 * tokens (HS256 only, issuer checked, the user's current token version must
 * match so logout and password changes revoke tokens at once), API keys from
 * `X-API-Key` or `Authorization: Api-Key …`.
 */
export function createAuthenticator(accounts: AccountsApi, tokens: TokenService): (access: Access) => RequestHandler {
  const auth = new passport.Passport();
  auth.use('jwt', new JwtStrategy({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), ...tokens.passportOptions }, (claims: TokenClaims, done) => {
    if (claims.typ !== 'access') {
      done(null, false, { message: 'a refresh token is not an access token' });
      return;
    }
    accounts.users.byId(Number(claims.sub)).then((user) => {
      if (!user || user.tokenVersion !== claims.ver) done(null, false, { message: 'the token has been revoked' });
      else done(null, user);
    }, (err: unknown) => done(err));
  }));

  return (access) => (req, res, next) => {
    if (access === 'public') {
      next();
      return;
    }
    const areq = req as unknown as AuthedRequest;
    const finish = (principal: Principal) => {
      if (!allowed(principal, access)) {
        next(new MeterhubError('METERHUB_ERR_FORBIDDEN', `this needs ${access === 'admin' ? 'an admin account' : `the "${access}" permission`}`));
        return;
      }
      areq.principal = principal;
      next();
    };
    const key = apiKeyFrom(req);
    if (key !== undefined) {
      accounts.keys.verify(key).then((k) => (k ? finish({ kind: 'key', key: k }) : next(new MeterhubError('METERHUB_ERR_UNAUTHORIZED', 'the API key is not valid or was revoked'))), next);
      return;
    }
    auth.authenticate('jwt', { session: false }, (err: unknown, user: UserView | false, info?: { message?: string } | Error) => {
      if (err) {
        next(err);
        return;
      }
      if (!user) {
        const reason = info instanceof Error ? (info.name === 'TokenExpiredError' ? 'the access token has expired' : info.message === 'No auth token' ? 'authentication is required' : 'the access token is not valid')
          : info?.message ?? 'authentication is required';
        res.setHeader('WWW-Authenticate', 'Bearer realm="meterhub"');
        next(new MeterhubError('METERHUB_ERR_UNAUTHORIZED', reason));
        return;
      }
      finish({ kind: 'user', user });
    })(req, res, next);
  };
}
