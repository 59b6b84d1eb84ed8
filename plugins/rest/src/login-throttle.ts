import { MeterhubError } from '@meterhub/sdk';

/** How many addresses and usernames the throttle tracks before it forgets the least recently seen. */
export const THROTTLE_MAX_ENTRIES = 10_000;

/**
 * Limits the token endpoint: per client address a budget of attempts per
 * window, and per username a lockout that doubles after each run of failures
 * (1 s, 2 s, 4 s … up to 15 min). A correct password clears the username's
 * failures. Kept in memory: a restart forgives, which is acceptable for a
 * home system and keeps the database out of the login path.
 *
 * Both maps are bounded: past `maxEntries` the least recently used entries
 * go first (a Map keeps insertion order; a touched entry is moved to the
 * end), and an active lockout is never evicted, so flooding the throttle with
 * fresh names cannot unlock an account under attack.
 */
export class LoginThrottle {
  readonly #byAddress = new Map<string, { count: number; resetAt: number }>();
  readonly #byUser = new Map<string, { failures: number; lockedUntil: number }>();

  constructor(private readonly maxPerWindow: number, private readonly windowMs: number, private readonly freeFailures = 5, private readonly maxEntries = THROTTLE_MAX_ENTRIES) {}

  /** Throws a 429 when the address is over budget or the username is locked. */
  check(address: string, username: string, now = Date.now()): void {
    const a = this.#byAddress.get(address);
    if (!a || now >= a.resetAt) touch(this.#byAddress, address, { count: 1, resetAt: now + this.windowMs });
    else {
      touch(this.#byAddress, address, a);
      if (++a.count > this.maxPerWindow) {
        throw new MeterhubError('METERHUB_ERR_RATE_LIMITED', `too many login attempts; try again in ${Math.ceil((a.resetAt - now) / 1000)} s`, { retryAfterSeconds: (a.resetAt - now) / 1000 });
      }
    }
    evict(this.#byAddress, this.maxEntries, (e) => e.count > this.maxPerWindow && now < e.resetAt);
    const u = this.#byUser.get(username);
    if (u && now < u.lockedUntil) {
      throw new MeterhubError('METERHUB_ERR_RATE_LIMITED', `this account is locked after failed logins; try again in ${Math.ceil((u.lockedUntil - now) / 1000)} s`, { retryAfterSeconds: (u.lockedUntil - now) / 1000 });
    }
  }

  failed(username: string, now = Date.now()): void {
    const u = this.#byUser.get(username) ?? { failures: 0, lockedUntil: 0 };
    u.failures++;
    if (u.failures >= this.freeFailures) u.lockedUntil = now + Math.min(1000 * 2 ** (u.failures - this.freeFailures), 15 * 60_000);
    touch(this.#byUser, username, u);
    evict(this.#byUser, this.maxEntries, (e) => now < e.lockedUntil);
  }

  succeeded(username: string): void {
    this.#byUser.delete(username);
  }

  /** Entries tracked (addresses, usernames), for tests and status. */
  get size(): { addresses: number; users: number } {
    return { addresses: this.#byAddress.size, users: this.#byUser.size };
  }
}

/** Sets `key` as the most recently used entry. */
function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

/** Drops the least recently used entries past `max`, skipping those `keep` protects. */
function evict<V>(map: Map<string, V>, max: number, keep: (value: V) => boolean): void {
  if (map.size <= max) return;
  for (const [key, value] of map) {
    if (map.size <= max) return;
    if (!keep(value)) map.delete(key);
  }
}
