import { describeError, MeterhubError } from '@meterhub/sdk';
import type { StorageTarget } from './knex-factory.js';

/** Where a PostgreSQL connection's settings come from, for hints. */
const SETTINGS_HINT = 'set storage.url or storage.connection.* in the config, or DATABASE_URL / DB_HOST, DB_PORT, DB_NAME, DB_USER, DB_PASSWORD';

/** user@host:port/database of a target, never its password. */
function describeTarget(target: StorageTarget): string {
  const c = target.connection;
  if (typeof c === 'string') {
    try {
      const u = new URL(c);
      return `${decodeURIComponent(u.username) || '(default user)'}@${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'the configured URL';
    }
  }
  return `${c?.user ?? '(default user)'}@${c?.host ?? '127.0.0.1'}:${c?.port ?? 5432}/${c?.database ?? ''}`;
}

/**
 * Turns a failure to open the database into an error a person can act on: a
 * refused login or a missing database is a setting to fix (exit 2), an
 * unreachable server is an outage. PostgreSQL's SQLSTATE and the socket's
 * errno tell them apart; the password never appears.
 */
export function databaseOpenError(err: unknown, target: StorageTarget): MeterhubError {
  const e = err as { code?: string; message?: string };
  if (target.engine === 'postgres') {
    const where = describeTarget(target);
    if (e.code === '28P01' || e.code === '28000') {
      return new MeterhubError('METERHUB_ERR_DATABASE_LOGIN', `PostgreSQL refused the login as ${where}: ${e.message ?? 'authentication failed'}`, {
        cause: err, details: [{ path: '/storage', message: 'user name or password not accepted', hint: SETTINGS_HINT }],
      });
    }
    if (e.code === '3D000') {
      return new MeterhubError('METERHUB_ERR_DATABASE_LOGIN', `PostgreSQL has no database for ${where}: ${e.message ?? 'database does not exist'}`, {
        cause: err, details: [{ path: '/storage', message: 'the database does not exist', hint: `create it (createdb NAME) or ${SETTINGS_HINT}` }],
      });
    }
    if (e.code === 'ECONNREFUSED' || e.code === 'ENOTFOUND' || e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH') {
      return new MeterhubError('METERHUB_ERR_DATABASE_UNREACHABLE', `PostgreSQL is not reachable at ${where} (${e.code}); is it running and listening there?`, { cause: err });
    }
  }
  return new MeterhubError('METERHUB_ERR_INTERNAL', `cannot open the ${target.engine} database: ${describeError(err)}`, { cause: err });
}
