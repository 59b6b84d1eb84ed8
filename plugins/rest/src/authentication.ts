import type { IncomingMessage } from 'node:http';
import type { RequestHandler } from 'express';
import passport from 'passport';
import { ExtractJwt, Strategy as JwtStrategy } from 'passport-jwt';
import { MeterhubError, type AccountsApi, type Authenticator, type Principal, type Scope, type UserView } from '@meterhub/sdk';
import type { TokenClaims, TokenService } from './token-service.js';

export type { Principal } from '@meterhub/sdk';

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

/** The token's user, unless the token was revoked since (logout, password change raise the user's token version). */
async function currentUser(accounts: AccountsApi, claims: TokenClaims): Promise<UserView | undefined> {
  const user = await accounts.users.byId(Number(claims.sub));
  return user && user.tokenVersion === claims.ver ? user : undefined;
}

/**
 * Builds the middleware that authenticates requests: passport-jwt for access
 * tokens (HS256 only, issuer checked, the user's current token version must
 * match so logout and password changes revoke tokens at once), API keys from
 * `X-API-Key` or `Authorization: Api-Key …`.
 */
export function createAuthenticator(accounts: AccountsApi, tokens: TokenService): (access: Access) => RequestHandler {
  const auth = new passport.Passport();
  /**
   * Access tokens passport-jwt has verified, by their exact text, until they
   * expire: a client sends the same token with every request, and re-checking
   * its signature each time was most of the cost of a request. The user's
   * token version is still checked on every request, so revocation holds.
   */
  const verified = new Map<string, { claims: TokenClaims; exp: number }>();
  const userFor = (claims: TokenClaims) => currentUser(accounts, claims);
  auth.use('jwt', new JwtStrategy({ jwtFromRequest: ExtractJwt.fromAuthHeaderAsBearerToken(), ...tokens.passportOptions }, (claims: TokenClaims, done) => {
    if (claims.typ !== 'access') {
      done(null, false, { message: 'a refresh token is not an access token' });
      return;
    }
    // jsonwebtoken accepts a token without `exp`; such a token would never expire.
    if (typeof claims.exp !== 'number') {
      done(null, false, { message: 'the access token has no expiry' });
      return;
    }
    userFor(claims).then((user) => {
      if (!user) done(null, false, { message: 'the token has been revoked' });
      else done(null, user, claims);
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
    const bearer = req.headers.authorization?.startsWith('Bearer ') ? req.headers.authorization.slice(7) : undefined;
    const hit = bearer === undefined ? undefined : verified.get(bearer);
    if (hit && hit.exp * 1000 > Date.now()) {
      userFor(hit.claims).then((user) => {
        if (user) finish({ kind: 'user', user, expiresAt: hit.exp * 1000 });
        else next(new MeterhubError('METERHUB_ERR_TOKEN_INVALID', 'the token has been revoked'));
      }, next);
      return;
    }
    auth.authenticate('jwt', { session: false }, (err: unknown, user: UserView | false, info?: { message?: string } | Error | TokenClaims) => {
      if (err) {
        next(err);
        return;
      }
      if (user && bearer !== undefined && info && 'exp' in info) {
        if (verified.size > 10_000) verified.clear();
        verified.set(bearer, { claims: info as TokenClaims, exp: (info as TokenClaims & { exp: number }).exp });
      }
      if (!user) {
        if (bearer === undefined || (info instanceof Error && info.message === 'No auth token')) {
          next(new MeterhubError('METERHUB_ERR_UNAUTHORIZED', 'authentication is required: an access token or an API key'));
          return;
        }
        const reason = info instanceof Error ? (info.name === 'TokenExpiredError' ? 'the access token has expired' : 'the access token is not valid')
          : (info as { message?: string } | undefined)?.message ?? 'the access token is not valid';
        next(new MeterhubError('METERHUB_ERR_TOKEN_INVALID', reason));
        return;
      }
      finish({ kind: 'user', user, expiresAt: ((info as { exp?: number } | undefined)?.exp ?? 0) * 1000 });
    })(req, res, next);
  };
}

/**
 * The authenticator the REST plugin lends to other plugins through the host
 * (live streams, exports): the same checks as the HTTP API (HS256 only, issuer,
 * token type, the user's token version; API keys by digest).
 */
export function sharedAuthenticator(accounts: AccountsApi, tokens: TokenService): Authenticator {
  return {
    async authenticate(credentials) {
      if (credentials.apiKey !== undefined) {
        const key = await accounts.keys.verify(credentials.apiKey);
        if (!key) throw new MeterhubError('METERHUB_ERR_UNAUTHORIZED', 'the API key is not valid or was revoked');
        return { kind: 'key', key };
      }
      if (!credentials.bearer) throw new MeterhubError('METERHUB_ERR_UNAUTHORIZED', 'authentication is required: an access token or an API key');
      const claims = tokens.verify(credentials.bearer, 'access');
      const user = await currentUser(accounts, claims);
      if (!user) throw new MeterhubError('METERHUB_ERR_TOKEN_INVALID', 'the token has been revoked');
      return { kind: 'user', user, expiresAt: (claims.exp ?? 0) * 1000 };
    },
  };
}
