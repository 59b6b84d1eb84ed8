import { MeterhubError } from '@meterhub/sdk';

/**
 * Limits the token endpoint: per client address a budget of attempts per
 * window, and per username a lockout that doubles after each run of failures
 * (1 s, 2 s, 4 s … up to 15 min). A correct password clears the username's
 * failures. Kept in memory: a restart forgives, which is acceptable for a
 * home system and keeps the database out of the login path.
 */
export class LoginThrottle {
  readonly #byAddress = new Map<string, { count: number; resetAt: number }>();
  readonly #byUser = new Map<string, { failures: number; lockedUntil: number }>();

  constructor(private readonly maxPerWindow: number, private readonly windowMs: number, private readonly freeFailures = 5) {}

  /** Throws a 429 when the address is over budget or the username is locked. */
  check(address: string, username: string, now = Date.now()): void {
    const a = this.#byAddress.get(address);
    if (!a || now >= a.resetAt) this.#byAddress.set(address, { count: 1, resetAt: now + this.windowMs });
    else if (++a.count > this.maxPerWindow) {
      throw new MeterhubError('METERHUB_ERR_RATE_LIMITED', `too many login attempts; try again in ${Math.ceil((a.resetAt - now) / 1000)} s`);
    }
    const u = this.#byUser.get(username);
    if (u && now < u.lockedUntil) {
      throw new MeterhubError('METERHUB_ERR_RATE_LIMITED', `this account is locked after failed logins; try again in ${Math.ceil((u.lockedUntil - now) / 1000)} s`);
    }
    if (this.#byAddress.size > 10_000) this.#byAddress.clear();
  }

  failed(username: string, now = Date.now()): void {
    const u = this.#byUser.get(username) ?? { failures: 0, lockedUntil: 0 };
    u.failures++;
    if (u.failures >= this.freeFailures) u.lockedUntil = now + Math.min(1000 * 2 ** (u.failures - this.freeFailures), 15 * 60_000);
    this.#byUser.set(username, u);
    if (this.#byUser.size > 10_000) this.#byUser.clear();
  }

  succeeded(username: string): void {
    this.#byUser.delete(username);
  }
}
