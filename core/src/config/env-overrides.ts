/**
 * Environment variables that override config settings. The names are those of
 * the old Django deployment, so existing compose files and unit files keep
 * working. Values are applied to the raw config before validation: a bad value
 * is reported like a bad file entry, with a hint naming the variable.
 */

type Raw = Record<string, unknown>;

interface Override {
  env: string;
  path: readonly string[];
  parse: (value: string) => unknown;
}

const asBoolean = (v: string): unknown => {
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off|)$/i.test(v)) return false;
  return v; // left as a string so validation names the variable
};
const asInteger = (v: string): unknown => (/^-?\d+$/.test(v.trim()) ? Number(v) : v);
const asList = (v: string): unknown => v.split(',').map((s) => s.trim()).filter(Boolean);
const asString = (v: string): unknown => v;
/** A hop count (`1`), off (`false`, empty) or a comma-separated list of proxy addresses. */
const asTrustProxy = (v: string): unknown => {
  const t = v.trim();
  if (/^(true|false|yes|no|on|off|0|)$/i.test(t)) return asBoolean(t);
  return /^\d+$/.test(t) ? Number(t) : asList(t);
};

const OVERRIDES: readonly Override[] = [
  { env: 'PORT', path: ['http', 'port'], parse: asInteger },
  { env: 'HOST', path: ['http', 'host'], parse: asString },
  { env: 'DEBUG', path: ['debug'], parse: asBoolean },
  { env: 'LOG_LEVEL', path: ['log', 'level'], parse: asString },
  { env: 'SECRET_KEY', path: ['auth', 'secretKey'], parse: asString },
  { env: 'ALLOWED_HOSTS', path: ['http', 'allowedHosts'], parse: asList },
  { env: 'CORS_ALLOWED_ORIGINS', path: ['http', 'corsAllowedOrigins'], parse: asList },
  { env: 'METERHUB_TRUST_PROXY', path: ['http', 'trustProxy'], parse: asTrustProxy },
  { env: 'METERHUB_BASE_PATH', path: ['http', 'basePath'], parse: asString },
  { env: 'JWT_ACCESS_TOKEN_LIFETIME', path: ['auth', 'accessTokenLifetimeMinutes'], parse: asInteger },
  { env: 'JWT_REFRESH_TOKEN_LIFETIME', path: ['auth', 'refreshTokenLifetimeMinutes'], parse: asInteger },
  { env: 'DATABASE_URL', path: ['storage', 'url'], parse: asString },
  { env: 'REDIS_URL', path: ['redis', 'url'], parse: asString },
  { env: 'MQTT_URL', path: ['plugins', 'mqtt', 'config', 'url'], parse: asString },
  { env: 'DB_HOST', path: ['storage', 'connection', 'host'], parse: asString },
  { env: 'DB_PORT', path: ['storage', 'connection', 'port'], parse: asInteger },
  { env: 'DB_NAME', path: ['storage', 'connection', 'database'], parse: asString },
  { env: 'DB_USER', path: ['storage', 'connection', 'user'], parse: asString },
  { env: 'DB_PASSWORD', path: ['storage', 'connection', 'password'], parse: asString },
];

/** The variables this host reads, for docs and `meterhub config env`. */
export const ENV_VARIABLES: readonly string[] = OVERRIDES.map((o) => o.env);

function setPath(target: Raw, path: readonly string[], value: unknown): void {
  let node = target;
  for (const key of path.slice(0, -1)) {
    const next = node[key];
    if (!next || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Raw;
  }
  node[path[path.length - 1]!] = value;
}

/**
 * Applies the overrides to a copy of `raw`. Returns the new config and a map from
 * JSON path (`/http/port`) to the variable that set it, for error hints.
 */
export function applyEnvOverrides(raw: Raw, env: NodeJS.ProcessEnv): { config: Raw; sources: Map<string, string> } {
  const config = structuredClone(raw);
  const sources = new Map<string, string>();
  for (const o of OVERRIDES) {
    const value = env[o.env];
    if (value === undefined) continue;
    setPath(config, o.path, o.parse(value));
    sources.set(`/${o.path.join('/')}`, o.env);
  }
  // The old deployment selected PostgreSQL by setting DB_HOST or a URL; keep that meaning.
  if ((env['DB_HOST'] || env['DATABASE_URL']) && !env['METERHUB_STORAGE_CLIENT']) {
    setPath(config, ['storage', 'client'], 'postgres');
    sources.set('/storage/client', env['DATABASE_URL'] ? 'DATABASE_URL' : 'DB_HOST');
  }
  return { config, sources };
}
