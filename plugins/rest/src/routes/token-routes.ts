import { MeterhubError, type HostApi } from '@meterhub/sdk';
import type { LoginThrottle } from '../login-throttle.js';
import type { RouteSpec } from '../route-table.js';
import type { TokenService } from '../token-service.js';
import { accessTokenSchema, tokenPairSchema } from '../response-schemas.js';

const tokenBody = {
  type: 'object', additionalProperties: false, required: ['username', 'password'],
  properties: { username: { type: 'string', minLength: 1, maxLength: 150 }, password: { type: 'string', minLength: 1, maxLength: 1024 } },
};
const refreshBody = { type: 'object', additionalProperties: false, required: ['refresh'], properties: { refresh: { type: 'string', minLength: 1, maxLength: 4096 } } };

/** `/api/token/`, `/api/token/refresh/`, `/api/token/revoke/`: the old system's paths. */
export function tokenRoutes(host: HostApi, tokens: TokenService, throttle: LoginThrottle): RouteSpec[] {
  const userFromRefresh = async (refresh: string) => {
    const claims = tokens.verify(refresh, 'refresh');
    const user = await host.accounts.users.byId(Number(claims.sub));
    if (!user || user.tokenVersion !== claims.ver) throw new MeterhubError('METERHUB_ERR_TOKEN_INVALID', 'the refresh token has been revoked');
    return user;
  };
  return [
    {
      method: 'post', path: '/api/token/', tag: 'auth', access: 'public', body: tokenBody, response: tokenPairSchema, errors: [429], forms: true,
      summary: 'Exchange a username and password for an access and a refresh token',
      async handler({ req, body }) {
        const { username, password } = body as { username: string; password: string };
        // The real client behind a trusted proxy, else every user would share the proxy's budget.
        throttle.check(host.http.client(req).address, username);
        const user = await host.accounts.users.verify(username, password);
        if (!user) {
          throttle.failed(username);
          throw new MeterhubError('METERHUB_ERR_UNAUTHORIZED', 'no active account with these credentials');
        }
        throttle.succeeded(username);
        return { access: tokens.issue(user, 'access'), refresh: tokens.issue(user, 'refresh') };
      },
    },
    {
      method: 'post', path: '/api/token/refresh/', tag: 'auth', access: 'public', body: refreshBody, forms: true,
      response: accessTokenSchema,
      summary: 'Exchange a refresh token for a new access token',
      async handler({ body }) {
        return { access: tokens.issue(await userFromRefresh((body as { refresh: string }).refresh), 'access') };
      },
    },
    {
      method: 'post', path: '/api/token/revoke/', tag: 'auth', access: 'public', body: refreshBody, status: 204, forms: true,
      summary: 'Log out: revoke the refresh token and every other token of its user',
      async handler({ body }) {
        const user = await userFromRefresh((body as { refresh: string }).refresh);
        await host.accounts.users.revokeTokens(user.id);
        return undefined;
      },
    },
  ];
}
