import { isMeterhubError, requireReadAccess, type Credentials, type CredentialsChange, type HostApi, type Principal } from '@meterhub/sdk';

/** Epoch ms when the connection's credentials stop being valid, if they do. */
export function expiryOf(principal: Principal): number | undefined {
  return principal.kind === 'user' && principal.expiresAt > 0 ? principal.expiresAt : undefined;
}

/** True when `change` may have revoked what `principal` was accepted with; no change (the periodic re-check) concerns everyone. */
export function affectedBy(change: CredentialsChange | undefined, principal: Principal): boolean {
  if (!change) return true;
  return change.kind === 'key-revoked'
    ? principal.kind === 'key' && principal.key.id === change.keyId
    : principal.kind === 'user' && principal.user.id === change.userId;
}

/**
 * Checks a live connection's credentials again, as at its handshake. Resolves
 * the principal when they still give read access, `undefined` when they were
 * refused (revoked, expired, user gone, no `read`). Any other failure (the
 * database briefly unreachable) keeps the connection: that is not a revocation.
 */
export async function recheck(host: HostApi, credentials: Credentials): Promise<Principal | undefined> {
  try {
    return requireReadAccess(await host.auth.authenticate(credentials));
  } catch (err) {
    if (isMeterhubError(err, 'METERHUB_ERR_UNAUTHORIZED') || isMeterhubError(err, 'METERHUB_ERR_TOKEN_INVALID') || isMeterhubError(err, 'METERHUB_ERR_FORBIDDEN')) return undefined;
    throw err;
  }
}

export const REVOKED_MESSAGE = 'the credentials of this connection were revoked; connect again with valid ones';
