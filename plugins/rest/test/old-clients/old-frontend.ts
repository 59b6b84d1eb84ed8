/**
 * A frontend written for the old Django REST Framework + simplejwt API, as
 * such single-page apps were: tokens from `/api/token/`, a refresh when a 401
 * carries simplejwt's `code: "token_not_valid"`, lists followed through DRF's
 * absolute `next` links, `user_id` decoded from the access token. It knows
 * nothing of meterhub's own error shape.
 */
export class OldFrontend {
  access = '';
  refresh = '';
  refreshes = 0;

  constructor(private readonly base: string) {}

  /** The logged-in user's id, as such frontends read it from the token. */
  get userId(): unknown {
    return (JSON.parse(Buffer.from(this.access.split('.')[1]!, 'base64url').toString('utf8')) as { user_id?: unknown }).user_id;
  }

  async login(username: string, password: string): Promise<void> {
    const res = await fetch(`${this.base}/api/token/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username, password }) });
    if (res.status !== 200) throw new Error(`login: ${res.status} ${await res.text()}`);
    ({ access: this.access, refresh: this.refresh } = await res.json() as { access: string; refresh: string });
  }

  /** GET with the access token; on a 401 `token_not_valid` it refreshes once and retries (the usual axios interceptor). */
  async get(pathOrUrl: string): Promise<Response> {
    const url = pathOrUrl.startsWith('http') ? pathOrUrl : `${this.base}${pathOrUrl}`;
    const send = () => fetch(url, { headers: { authorization: `Bearer ${this.access}` } });
    let res = await send();
    if (res.status === 401) {
      const body = await res.clone().json().catch(() => ({})) as { code?: string };
      if (body.code !== 'token_not_valid') return res;
      const r = await fetch(`${this.base}/api/token/refresh/`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ refresh: this.refresh }) });
      if (r.status !== 200) return res;
      this.access = ((await r.json()) as { access: string }).access;
      this.refreshes++;
      res = await send();
    }
    return res;
  }

  async json<T>(pathOrUrl: string): Promise<T> {
    const res = await this.get(pathOrUrl);
    if (res.status !== 200) throw new Error(`GET ${pathOrUrl}: ${res.status} ${await res.text()}`);
    return res.json() as Promise<T>;
  }

  /** Every item of a DRF-paginated list, following `next` as given. */
  async all<T>(path: string): Promise<{ items: T[]; pages: number; count: number }> {
    const items: T[] = [];
    let pages = 0;
    let count = 0;
    for (let url: string | null = path; url; pages++) {
      const page: { count: number; next: string | null; results: T[] } = await this.json(url);
      count = page.count;
      items.push(...page.results);
      url = page.next;
    }
    return { items, pages, count };
  }

  /** Downloads a file as a browser does: the body and the name from Content-Disposition. */
  async download(path: string): Promise<{ name: string; type: string; text: string }> {
    const res = await this.get(path);
    if (res.status !== 200) throw new Error(`download ${path}: ${res.status} ${await res.text()}`);
    const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? 'download';
    return { name, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }
}
