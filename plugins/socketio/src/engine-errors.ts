import type { ServerResponse } from 'node:http';
import { MeterhubError, sendHttpError, type ErrorCode } from '@meterhub/sdk';

/**
 * engine.io's statuses as catalog codes. Its only 500 is a method other than
 * GET or POST on a polling session: the client's mistake, so a 405 here.
 */
const CODES: Record<number, ErrorCode> = { 403: 'METERHUB_ERR_FORBIDDEN', 413: 'METERHUB_ERR_TOO_LARGE', 500: 'METERHUB_ERR_METHOD_NOT_ALLOWED' };

/** The message of engine.io's own error body (`{"code": 1, "message": "Session ID unknown"}`), if it wrote one. */
function engineMessage(chunk: unknown, status: number): string {
  try {
    const parsed = JSON.parse(String(chunk ?? '')) as { message?: unknown };
    if (typeof parsed.message === 'string') return parsed.message;
  } catch {
    // engine.io's polling transport answers some errors without a body.
  }
  if (status === 413) return 'the packet is larger than the polling transport accepts';
  return status === 500 ? 'a polling session takes GET and POST only' : 'the Socket.IO request is not valid';
}

/**
 * engine.io answers a bad polling request (unknown transport or session, a
 * bad packet) with a body of its own; this makes it the host's one error
 * answer (the SDK's `sendHttpError`) like every other endpoint's. Successful
 * answers pass through untouched.
 */
export function withHostErrors(res: ServerResponse): ServerResponse {
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
  const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
  let failed: number | undefined;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    if (status < 400) return writeHead(status, ...rest);
    failed = status;
    return res;
  }) as ServerResponse['writeHead'];
  res.end = ((...args: unknown[]) => {
    if (failed === undefined) return end(...args);
    res.writeHead = writeHead as ServerResponse['writeHead'];
    res.end = end as ServerResponse['end'];
    const chunk = typeof args[0] === 'function' ? undefined : args[0];
    sendHttpError(res, new MeterhubError(CODES[failed] ?? (failed >= 500 ? 'METERHUB_ERR_INTERNAL' : 'METERHUB_ERR_VALIDATION'), engineMessage(chunk, failed)));
    return res;
  }) as ServerResponse['end'];
  return res;
}
