import { readFileSync } from 'node:fs';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { rootCertificates } from 'node:tls';

export interface CentralOptions {
  url: string;
  key: string;
  caFile?: string;
  timeoutMs: number;
}

/**
 * Enough for a bulk answer's outcome of every group of a batch (at most 5000
 * groups, each with up to 20 field errors when invalid); longer answers are
 * cut, and a cut bulk answer counts as a failed request.
 */
const MAX_ANSWER_CHARS = 1 << 24;

/** What one request came back with; `status` 0 means no answer (refused, reset, timed out). */
export interface PostResult {
  status: number;
  body: string;
  error?: string;
}

/**
 * Talks to the central host's ingest endpoints with an `ingest` API key, over
 * keep-alive connections. TLS trusts the system's CAs plus an optional CA file
 * (a private CA for a self-hosted central server). The key travels only in the
 * `X-API-Key` header; it is never part of a URL or a log line.
 */
export class CentralClient {
  readonly #base: URL;
  readonly #agent: HttpAgent | HttpsAgent;
  readonly #ca: string[] | undefined;

  constructor(private readonly opts: CentralOptions) {
    this.#base = new URL(opts.url.endsWith('/') ? opts.url : `${opts.url}/`);
    this.#ca = opts.caFile ? [...rootCertificates, readFileSync(opts.caFile, 'utf8')] : undefined;
    this.#agent = this.#base.protocol === 'https:'
      ? new HttpsAgent({ keepAlive: true, maxSockets: 2, ...(this.#ca ? { ca: this.#ca } : {}) })
      : new HttpAgent({ keepAlive: true, maxSockets: 2 });
  }

  /** The server as logs may show it: no credentials, no path. */
  get origin(): string {
    return this.#base.origin;
  }

  post(path: string, body: unknown): Promise<PostResult> {
    return this.#request('POST', path, JSON.stringify(body));
  }

  /** A GET without credentials, for probing a server marked down (its `/health/` answers anyone). */
  get(path: string): Promise<PostResult> {
    return this.#request('GET', path);
  }

  #request(method: 'GET' | 'POST', path: string, payload?: string): Promise<PostResult> {
    const url = new URL(path.replace(/^\//, ''), this.#base);
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const headers: Record<string, string | number> = payload === undefined ? {} : {
      'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-api-key': this.opts.key,
      // `x-meterhub-source` lets the central host mark these readings `uplink` (they stream live like any other).
      'x-meterhub-source': 'uplink',
    };
    return new Promise((resolve) => {
      const req = send(url, { method, agent: this.#agent, timeout: this.opts.timeoutMs, headers }, (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          if (text.length < MAX_ANSWER_CHARS) text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
      });
      req.on('timeout', () => req.destroy(new Error(`no answer within ${this.opts.timeoutMs} ms`)));
      req.on('error', (err) => resolve({ status: 0, body: '', error: err.message }));
      req.end(payload);
    });
  }

  close(): void {
    this.#agent.destroy();
  }
}
