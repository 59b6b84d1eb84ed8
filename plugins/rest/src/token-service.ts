import { createSecretKey, randomUUID, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { MeterhubError, type UserView } from '@meterhub/sdk';

export type TokenType = 'access' | 'refresh';

export interface TokenClaims {
  sub: string;
  typ: TokenType;
  /** The user's token version when issued: raising it revokes the token. */
  ver: number;
  role: string;
  jti: string;
  /** simplejwt's claims, for clients written for the old API: the user id as a string (as simplejwt 5.5 sends it) and the token type. */
  user_id: string;
  token_type: TokenType;
  /** Expiry, epoch seconds (set by jsonwebtoken). */
  exp?: number;
}

export const ISSUER = 'meterhub';
const ALGORITHM = 'HS256' as const;

/**
 * Signs and verifies JWTs: HS256 only (never `none`, never what the token
 * header asks for), a fixed issuer, and a token type so a refresh token is
 * never accepted as an access token or the reverse.
 */
export class TokenService {
  /**
   * The key as a KeyObject, made once: given a string, jsonwebtoken tries (and
   * fails) to parse it as a public key on every verify, which dominated the
   * cost of an authenticated request.
   */
  readonly #key: KeyObject;

  constructor(secret: string, private readonly lifetimes: { accessMinutes: number; refreshMinutes: number }) {
    this.#key = createSecretKey(Buffer.from(secret, 'utf8'));
  }

  issue(user: UserView, typ: TokenType): string {
    const minutes = typ === 'access' ? this.lifetimes.accessMinutes : this.lifetimes.refreshMinutes;
    const claims: Omit<TokenClaims, 'sub'> = { typ, token_type: typ, user_id: String(user.id), ver: user.tokenVersion, role: user.role, jti: randomUUID().replaceAll('-', '') };
    return jwt.sign(claims, this.#key, { algorithm: ALGORITHM, issuer: ISSUER, subject: String(user.id), expiresIn: minutes * 60 });
  }

  /** Verifies signature, algorithm, issuer, expiry and type; throws a 401 otherwise. */
  verify(token: string, typ: TokenType): TokenClaims {
    let claims: TokenClaims;
    try {
      claims = jwt.verify(token, this.#key, { algorithms: [ALGORITHM], issuer: ISSUER }) as TokenClaims;
    } catch (err) {
      const expired = (err as Error).name === 'TokenExpiredError';
      throw new MeterhubError('METERHUB_ERR_TOKEN_INVALID', expired ? `the ${typ} token has expired` : `the ${typ} token is not valid`);
    }
    if (claims.typ !== typ) throw new MeterhubError('METERHUB_ERR_TOKEN_INVALID', `a ${claims.typ} token is not a ${typ} token`);
    if (typeof claims.exp !== 'number') throw new MeterhubError('METERHUB_ERR_TOKEN_INVALID', `the ${typ} token has no expiry`);
    return claims;
  }

  /** Options for passport-jwt, so it verifies exactly as `verify` does. */
  get passportOptions() {
    return { secretOrKey: this.#key as unknown as string, algorithms: [ALGORITHM], issuer: ISSUER };
  }
}
