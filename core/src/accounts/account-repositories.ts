import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Knex } from 'knex';
import objection from 'objection';
import { MeterhubError, type ApiKeyView as ApiKey, type CredentialsChange, type Role, type Scope, type UserView as User } from '@meterhub/sdk';
import { DUMMY_HASH, hashPassword, verifyPassword } from './password-hash.js';

const { Model } = objection;

export const ROLES: readonly Role[] = ['admin', 'viewer'];
export const SCOPES: readonly Scope[] = ['read', 'ingest', 'meters:write'];
export type { ApiKey, Role, Scope, User };

class UserModel extends Model {
  static override tableName = 'users';
  id!: number;
  username!: string;
  password_hash!: string;
  role!: Role;
  token_version!: number;
  created_at!: number;
  updated_at!: number;
}

class ApiKeyModel extends Model {
  static override tableName = 'api_keys';
  id!: number;
  name!: string;
  prefix!: string;
  digest!: string;
  scopes!: string;
  created_by!: number | null;
  created_at!: number;
  last_used_at!: number | null;
  revoked_at!: number | null;
}

const toUser = (m: UserModel): User => ({ id: m.id, username: m.username, role: m.role, tokenVersion: m.token_version, createdAt: new Date(Number(m.created_at)).toISOString() });
const iso = (t: number | null) => (t === null ? null : new Date(Number(t)).toISOString());
const toKey = (m: ApiKeyModel): ApiKey => ({
  id: m.id, name: m.name, prefix: m.prefix, scopes: JSON.parse(m.scopes) as Scope[], createdBy: m.created_by,
  createdAt: new Date(Number(m.created_at)).toISOString(), lastUsedAt: iso(m.last_used_at), revokedAt: iso(m.revoked_at),
});

const USERNAME = /^[A-Za-z0-9@.+_-]{1,150}$/;
export const MIN_PASSWORD = 10;

function checkPassword(password: string): void {
  if (password.length < MIN_PASSWORD) {
    throw new MeterhubError('METERHUB_ERR_VALIDATION', `the password needs at least ${MIN_PASSWORD} characters`, { details: [{ path: '/password', message: `must have at least ${MIN_PASSWORD} characters` }] });
  }
}

/**
 * How long a cached user is trusted. Changes made in this process invalidate
 * the cache at once; a change made by another process (`meterhub user passwd`
 * while the host runs) reaches the host within this time.
 */
export const USER_CACHE_TTL_MS = 5000;

/** A query failed: the database does not answer (the callers' only use of it is authentication). */
const unavailable = (err: unknown) => new MeterhubError('METERHUB_ERR_DATABASE_UNAVAILABLE', undefined, { cause: err, retryAfterSeconds: 5 });

/**
 * Runs a query; when it fails and `fallback` has an answer from before, that
 * answer instead: authentication keeps working for users and keys seen
 * recently while the database is unreachable. Changes made in this process
 * drop the fallback at once (a revoked key or a changed password never
 * survives in it).
 */
async function orLastKnown<T>(query: () => PromiseLike<T>, fallback: (() => T) | undefined): Promise<T> {
  try {
    return await query();
  } catch (err) {
    if (fallback) return fallback();
    throw unavailable(err);
  }
}

/** Users and their passwords (scrypt). Objection stays inside this file. */
export class UserRepository {
  readonly #model: typeof UserModel;
  readonly #cache = new Map<number, { user: User | undefined; until: number }>();
  /** The last row read for each username that logged in, so a login works while the database is unreachable. */
  readonly #logins = new Map<string, UserModel>();

  /** `changed` hears of every committed change that may revoke a user's credentials (the host's auth broker). */
  constructor(knex: Knex, private readonly changed: (change: CredentialsChange) => void = () => undefined) {
    this.#model = UserModel.bindKnex(knex);
  }

  #forget(id: number): void {
    this.#cache.delete(id);
    for (const [name, m] of this.#logins) if (m.id === id) this.#logins.delete(name);
  }

  async count(): Promise<number> {
    return this.#model.query().resultSize();
  }

  async list(offset = 0, limit = 100): Promise<User[]> {
    return (await this.#model.query().orderBy('id').offset(offset).limit(limit)).map(toUser);
  }

  /** Answered from a short-lived cache: every authenticated request looks its user up. */
  async byId(id: number): Promise<User | undefined> {
    const hit = this.#cache.get(id);
    if (hit && hit.until > Date.now()) return hit.user && { ...hit.user };
    let m: UserModel | undefined;
    try {
      m = await this.#model.query().findById(id);
    } catch (err) {
      // The database does not answer: a user seen before still authenticates.
      if (hit?.user) return { ...hit.user };
      throw unavailable(err);
    }
    const user = m ? toUser(m) : undefined;
    if (this.#cache.size > 10_000) this.#cache.clear();
    this.#cache.set(id, { user, until: Date.now() + USER_CACHE_TTL_MS });
    return user && { ...user };
  }

  async byUsername(username: string): Promise<User | undefined> {
    const m = await this.#model.query().findOne({ username });
    return m ? toUser(m) : undefined;
  }

  async create(username: string, password: string, role: Role): Promise<User> {
    if (!USERNAME.test(username)) throw new MeterhubError('METERHUB_ERR_VALIDATION', 'usernames are 1-150 letters, digits and @.+_-', { details: [{ path: '/username', message: 'must be 1-150 letters, digits or @.+_-' }] });
    if (!ROLES.includes(role)) throw new MeterhubError('METERHUB_ERR_VALIDATION', `role is ${ROLES.join(' or ')}`, { details: [{ path: '/role', message: `must be ${ROLES.join(' or ')}` }] });
    checkPassword(password);
    if (await this.#model.query().findOne({ username })) throw new MeterhubError('METERHUB_ERR_CONFLICT', `user "${username}" exists`);
    const now = Date.now();
    const m = await this.#model.query().insertAndFetch({ username, password_hash: await hashPassword(password), role, token_version: 0, created_at: now, updated_at: now });
    return toUser(m);
  }

  /** Sets a new password and invalidates every token issued before. */
  async setPassword(id: number, password: string): Promise<void> {
    checkPassword(password);
    const m = await this.#model.query().findById(id);
    if (!m) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', 'no such user');
    await this.#model.query().patchAndFetchById(id, { password_hash: await hashPassword(password), token_version: m.token_version + 1, updated_at: Date.now() });
    this.#forget(id);
    this.changed({ kind: 'user-changed', userId: id, reason: 'password' });
  }

  /**
   * Runs `change` on user `id` in a transaction that refuses (409) to leave the
   * installation without an admin, when `removesAdmin` says the change would
   * take this user's admin role away. The admin rows are locked (PostgreSQL),
   * so two admins demoting each other at once cannot both succeed.
   */
  async #keepingAnAdmin<T>(id: number, action: string, removesAdmin: boolean, change: (trx: Knex.Transaction, m: UserModel) => PromiseLike<T>): Promise<{ before: UserModel; result: T } | undefined> {
    return this.#model.transaction(async (trx) => {
      const m = await this.#model.query(trx).findById(id);
      if (!m) return undefined;
      if (removesAdmin && m.role === 'admin') {
        const admins = await this.#model.query(trx).where({ role: 'admin' }).forUpdate().select('id');
        if (admins.length <= 1) throw new MeterhubError('METERHUB_ERR_CONFLICT', `"${m.username}" is the last admin and cannot be ${action}; make another user admin first`);
      }
      return { before: m, result: await change(trx, m) };
    });
  }

  async update(id: number, patch: { role?: Role }): Promise<User> {
    const done = await this.#keepingAnAdmin(id, 'demoted', patch.role !== undefined && patch.role !== 'admin',
      (trx): PromiseLike<UserModel> => this.#model.query(trx).patchAndFetchById(id, { ...(patch.role ? { role: patch.role } : {}), updated_at: Date.now() }));
    if (!done) throw new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', 'no such user');
    this.#forget(id);
    if (patch.role && patch.role !== done.before.role) this.changed({ kind: 'user-changed', userId: id, reason: 'role' });
    return toUser(done.result);
  }

  /** Invalidates every refresh and access token of the user (logout everywhere). */
  async revokeTokens(id: number): Promise<void> {
    await this.#model.query().findById(id).increment('token_version', 1);
    this.#forget(id);
    this.changed({ kind: 'user-changed', userId: id, reason: 'logout' });
  }

  async delete(id: number): Promise<boolean> {
    const done = await this.#keepingAnAdmin(id, 'deleted', true, (trx): PromiseLike<number> => this.#model.query(trx).deleteById(id));
    this.#forget(id);
    const deleted = (done?.result ?? 0) > 0;
    if (deleted) this.changed({ kind: 'user-changed', userId: id, reason: 'deleted' });
    return deleted;
  }

  /** The user when the password matches; the same work is done for unknown names. */
  async verify(username: string, password: string): Promise<User | undefined> {
    const known = this.#logins.get(username);
    const m = await orLastKnown(() => this.#model.query().findOne({ username }), known ? () => known : undefined);
    if (m) {
      this.#logins.delete(username);
      if (this.#logins.size >= 10_000) this.#logins.delete(this.#logins.keys().next().value!);
      this.#logins.set(username, m);
    }
    const ok = await verifyPassword(password, m?.password_hash ?? DUMMY_HASH);
    return ok && m ? toUser(m) : undefined;
  }
}

const digestOf = (key: string) => createHash('sha256').update(key).digest('hex');

/**
 * API keys: high-entropy random strings shown once, stored as SHA-256 digests
 * (a slow hash adds nothing for 256 random bits), compared in constant time.
 */
export class ApiKeyRepository {
  readonly #model: typeof ApiKeyModel;
  /** When each key's `last_used_at` was last written: once a minute is enough, not once per request. */
  readonly #touched = new Map<number, number>();
  /** Valid keys by digest, checked again after USER_CACHE_TTL_MS and kept as the last known answer while the database is unreachable. */
  readonly #valid = new Map<string, { model: ApiKeyModel; until: number }>();

  /** `changed` hears of every committed revocation (the host's auth broker). */
  constructor(knex: Knex, private readonly changed: (change: CredentialsChange) => void = () => undefined) {
    this.#model = ApiKeyModel.bindKnex(knex);
  }

  async create(name: string, scopes: readonly Scope[], createdBy: number | null): Promise<{ key: string; apiKey: ApiKey }> {
    const bad = scopes.filter((s) => !SCOPES.includes(s));
    if (scopes.length === 0 || bad.length) throw new MeterhubError('METERHUB_ERR_VALIDATION', `scopes are ${SCOPES.join(', ')}`, { details: [{ path: '/scopes', message: `must be some of ${SCOPES.join(', ')}` }] });
    const key = `mh_${randomBytes(32).toString('base64url')}`;
    const m = await this.#model.query().insertAndFetch({
      name, prefix: key.slice(0, 10), digest: digestOf(key), scopes: JSON.stringify([...new Set(scopes)]), created_by: createdBy, created_at: Date.now(), last_used_at: null, revoked_at: null,
    });
    return { key, apiKey: toKey(m) };
  }

  async list(offset = 0, limit = 100): Promise<ApiKey[]> {
    return (await this.#model.query().orderBy('id').offset(offset).limit(limit)).map(toKey);
  }

  async revoke(id: number): Promise<boolean> {
    for (const [digest, v] of this.#valid) if (v.model.id === id) this.#valid.delete(digest);
    const revoked = (await this.#model.query().patch({ revoked_at: Date.now() }).where({ id }).whereNull('revoked_at')) > 0;
    if (revoked) this.changed({ kind: 'key-revoked', keyId: id });
    return revoked;
  }

  /** The key's record when it is valid and not revoked. */
  async verify(key: string): Promise<ApiKey | undefined> {
    if (!/^mh_[A-Za-z0-9_-]{20,100}$/.test(key)) return undefined;
    const digest = digestOf(key);
    const hit = this.#valid.get(digest);
    const m = hit && hit.until > Date.now() ? hit.model : await orLastKnown(() => this.#model.query().findOne({ digest }), hit ? () => hit.model : undefined);
    if (!m || m.revoked_at !== null || !timingSafeEqual(Buffer.from(m.digest), Buffer.from(digest))) {
      this.#valid.delete(digest);
      return undefined;
    }
    if (!hit || hit.model !== m) {
      if (this.#valid.size >= 10_000) this.#valid.delete(this.#valid.keys().next().value!);
      this.#valid.set(digest, { model: m, until: Date.now() + USER_CACHE_TTL_MS });
    }
    const now = Date.now();
    if (now - (this.#touched.get(m.id) ?? 0) >= 60_000) {
      this.#touched.set(m.id, now);
      void this.#model.query().patch({ last_used_at: now }).where({ id: m.id }).catch(() => undefined);
    }
    return toKey(m);
  }
}
