import type { Principal } from '@meterhub/sdk';

/** Epoch ms when the connection's credentials stop being valid, if they do. */
export function expiryOf(principal: Principal): number | undefined {
  return principal.kind === 'user' && principal.expiresAt > 0 ? principal.expiresAt : undefined;
}
