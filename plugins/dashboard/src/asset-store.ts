import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';

/** One file of the built dashboard with its precompressed variants. */
export interface Asset {
  type: string;
  identity: Buffer;
  br?: Buffer;
  gzip?: Buffer;
  /** Hashed names never change content, so browsers may keep them for a year. */
  immutable: boolean;
  etag: string;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.json': 'application/json',
  '.map': 'application/json',
};

/** `index.html` plus `assets/<name>-<hash>.<ext>`, as written by `scripts/bundle.mjs`. */
export interface BuildManifest {
  files: Record<string, { hash: string }>;
}

/**
 * Reads the bundle once at start (a few hundred KB): requests are then served
 * from memory with the variant the client accepts, never compressed per request.
 */
export function loadAssets(root: string): Map<string, Asset> {
  if (!existsSync(join(root, 'index.html'))) {
    throw new Error(`the dashboard is not built (no ${join(root, 'index.html')}): run npm run build`);
  }
  const manifest = JSON.parse(readFileSync(join(root, 'manifest.json'), 'utf8')) as BuildManifest;
  const assets = new Map<string, Asset>();
  const add = (urlPath: string, file: string, immutable: boolean) => {
    const ext = file.slice(file.lastIndexOf('.'));
    const read = (suffix: string) => (existsSync(file + suffix) ? readFileSync(file + suffix) : undefined);
    const br = read('.br');
    const gzip = read('.gz');
    const key = urlPath.startsWith('/assets/') ? urlPath.slice('/assets/'.length) : 'index.html';
    assets.set(urlPath, {
      type: TYPES[ext] ?? 'application/octet-stream',
      identity: readFileSync(file),
      ...(br ? { br } : {}),
      ...(gzip ? { gzip } : {}),
      immutable,
      etag: `"${manifest.files[key]?.hash ?? 'x'}"`,
    });
  };
  add('/', join(root, 'index.html'), false);
  for (const name of readdirSync(join(root, 'assets'))) {
    if (name.endsWith('.br') || name.endsWith('.gz')) continue;
    add(`/assets/${name}`, join(root, 'assets', name), true);
  }
  return assets;
}

/** Picks brotli, then gzip, then the plain file, as the client's Accept-Encoding allows. */
export function pickEncoding(asset: Asset, acceptEncoding: string | undefined): { body: Buffer; encoding?: 'br' | 'gzip' } {
  const accepted = new Set(
    (acceptEncoding ?? '').split(',').map((p) => p.trim()).filter((p) => !/;\s*q=0(\.0*)?$/.test(p)).map((p) => p.split(';')[0]!.trim().toLowerCase()),
  );
  if (asset.br && accepted.has('br')) return { body: asset.br, encoding: 'br' };
  if (asset.gzip && (accepted.has('gzip') || accepted.has('*'))) return { body: asset.gzip, encoding: 'gzip' };
  return { body: asset.identity };
}
