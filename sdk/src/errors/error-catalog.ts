/**
 * The one catalog of meterhub error codes. Every error the host, a driver check or
 * a plugin raises on purpose carries one of these codes, so logs, status output
 * and HTTP responses can be matched by code rather than by message text.
 */
export const ERROR_CATALOG = {
  METERHUB_ERR_CONFIG_INVALID: { status: 400, message: 'The configuration is not valid' },
  METERHUB_ERR_CONFIG_READ: { status: 500, message: 'The configuration file could not be read' },
  METERHUB_ERR_LEGACY_SETTING: { status: 400, message: 'The legacy setting.json could not be converted' },
  METERHUB_ERR_DRIVER_INVALID: { status: 400, message: 'The driver definition is not valid' },
  METERHUB_ERR_DRIVER_DUPLICATE: { status: 409, message: 'Two drivers share one id' },
  METERHUB_ERR_DRIVER_UNKNOWN: { status: 404, message: 'No driver with that id is loaded' },
  METERHUB_ERR_MEASUREMENT_UNKNOWN: { status: 400, message: 'The measurement is not in the vocabulary or not offered by the driver' },
  METERHUB_ERR_PLUGIN_NOT_FOUND: { status: 404, message: 'The plugin package could not be found' },
  METERHUB_ERR_PLUGIN_MANIFEST: { status: 400, message: 'The package is not a valid meterhub plugin or driver' },
  METERHUB_ERR_PLUGIN_API_RANGE: { status: 400, message: 'The plugin does not support this host API version' },
  METERHUB_ERR_PLUGIN_LOAD: { status: 500, message: 'The plugin failed to load' },
  METERHUB_ERR_PLUGIN_START: { status: 500, message: 'The plugin failed to start' },
  METERHUB_ERR_PLUGIN_STOP: { status: 500, message: 'The plugin failed to stop cleanly' },
  METERHUB_ERR_PLUGIN_CALLBACK: { status: 500, message: 'A plugin callback threw' },
  METERHUB_ERR_PLUGIN_TIMEOUT: { status: 504, message: 'The plugin did not answer in time' },
  METERHUB_ERR_PLUGIN_DUPLICATE: { status: 409, message: 'Two plugins share one id' },
  METERHUB_ERR_PLUGIN_DEPENDENCY: { status: 400, message: 'A plugin dependency is missing or failed' },
  METERHUB_ERR_MODBUS_TIMEOUT: { status: 504, message: 'The Modbus device did not answer in time' },
  METERHUB_ERR_MODBUS_EXCEPTION: { status: 502, message: 'The Modbus device answered with an exception' },
  METERHUB_ERR_MODBUS_FRAME: { status: 502, message: 'A malformed Modbus frame was received' },
  METERHUB_ERR_MODBUS_CRC: { status: 502, message: 'A Modbus RTU frame failed its CRC check' },
  METERHUB_ERR_MODBUS_CONNECTION: { status: 502, message: 'The Modbus connection failed' },
  METERHUB_ERR_HTTP_NOT_FOUND: { status: 404, message: 'No such resource' },
  METERHUB_ERR_SHUTTING_DOWN: { status: 503, message: 'The server is shutting down' },
  METERHUB_ERR_HTTP_BAD_HOST: { status: 400, message: 'The Host header is not in ALLOWED_HOSTS' },
  METERHUB_ERR_HOST_NOT_RUNNING: { status: 503, message: 'No running host answered' },
  METERHUB_ERR_VALIDATION: { status: 400, message: 'The request is not valid' },
  METERHUB_ERR_UNAUTHORIZED: { status: 401, message: 'Authentication is required' },
  METERHUB_ERR_TOKEN_INVALID: { status: 401, message: 'The token is invalid or expired' },
  METERHUB_ERR_FORBIDDEN: { status: 403, message: 'Not allowed for this account' },
  METERHUB_ERR_CONFLICT: { status: 409, message: 'The request conflicts with the current state' },
  METERHUB_ERR_RATE_LIMITED: { status: 429, message: 'Too many attempts; try again later' },
  METERHUB_ERR_METHOD_NOT_ALLOWED: { status: 405, message: 'Method not allowed' },
  METERHUB_ERR_TOO_LARGE: { status: 413, message: 'The request body is too large' },
  METERHUB_ERR_DATABASE_UNAVAILABLE: { status: 503, message: 'The database is unreachable; try again shortly' },
  METERHUB_ERR_INTERNAL: { status: 500, message: 'Internal error' },
  METERHUB_ERR_DATABASE_LOGIN: { status: 503, message: 'The database refused the login or does not exist' },
  METERHUB_ERR_DATABASE_UNREACHABLE: { status: 503, message: 'The database server is not reachable' },
  METERHUB_ERR_SIMULATOR: { status: 500, message: 'The meter simulator could not start' },
} as const satisfies Record<string, { status: number; message: string }>;

export type ErrorCode = keyof typeof ERROR_CATALOG;

/** One problem inside a larger error, e.g. one failing field of a config file. */
export interface ErrorDetail {
  /** JSON path (`/meters/0/unitId`) or another locator of the thing at fault. */
  path: string;
  message: string;
  hint?: string;
}

/**
 * An error with a catalog code. Throw it from plugins and drivers so the host can
 * report it with its code; `details` lists every individual problem.
 */
export class MeterhubError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: readonly ErrorDetail[];
  /** Seconds a client should wait before retrying (HTTP `Retry-After`), for 429 and 503. */
  readonly retryAfterSeconds: number | undefined;

  constructor(code: ErrorCode, message?: string, options?: { details?: ErrorDetail[]; cause?: unknown; retryAfterSeconds?: number }) {
    super(message ?? ERROR_CATALOG[code].message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeterhubError';
    this.code = code;
    this.status = ERROR_CATALOG[code].status;
    this.details = Object.freeze([...(options?.details ?? [])]);
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  toJSON(): { code: ErrorCode; message: string; details: readonly ErrorDetail[] } {
    return { code: this.code, message: this.message, details: this.details };
  }
}

/** True for a MeterhubError with the given code (or any code when none is given). */
export function isMeterhubError(err: unknown, code?: ErrorCode): err is MeterhubError {
  return err instanceof Error && typeof (err as MeterhubError).code === 'string' &&
    (err as MeterhubError).code.startsWith('METERHUB_ERR_') && (code === undefined || (err as MeterhubError).code === code);
}

/** A readable one-line reason for any thrown value, for status fields and logs. */
export function describeError(err: unknown): string {
  if (isMeterhubError(err)) return `${err.code}: ${err.message}`;
  if (err instanceof Error) return err.message || err.name;
  return String(err);
}
