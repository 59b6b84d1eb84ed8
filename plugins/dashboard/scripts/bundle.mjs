// Builds the dashboard into dist/web: one hashed JS and one hashed CSS file,
// each with .br and .gz variants compressed here once (the host never
// compresses per request), plus index.html and manifest.json.
import { build } from 'esbuild';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import { MEASUREMENTS } from '@meterhub/sdk';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..');
const final = join(root, 'dist', 'web');
// Built beside the served folder and swapped in at the end, so a host starting meanwhile reads a whole build.
const out = join(root, 'dist', 'web.next');
const started = Date.now();

// The SDK's vocabulary as JSON, so the page labels values with the host's own units and phases.
const vocabulary = [...MEASUREMENTS.values()].map((m) => ({ id: m.id, label: m.label, unit: m.unit, family: m.family, quantity: m.quantity, phase: m.phase, tariff: m.tariff }));
const vocabularyPlugin = {
  name: 'vocabulary',
  setup(b) {
    b.onResolve({ filter: /^virtual:vocabulary$/ }, () => ({ path: 'vocabulary', namespace: 'vocabulary' }));
    b.onLoad({ filter: /.*/, namespace: 'vocabulary' }, () => ({ contents: JSON.stringify(vocabulary), loader: 'json' }));
  },
};

rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });
const result = await build({
  entryPoints: { app: join(root, 'web', 'main.ts') },
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['chrome100', 'firefox100', 'safari15'],
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  assetNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  define: { 'process.env.NODE_ENV': '"production"' },
  plugins: [vocabularyPlugin],
  logLevel: 'warning',
});

const files = {};
const outputs = Object.keys(result.metafile.outputs).map((p) => join(process.cwd(), p));
const script = basename(outputs.find((p) => p.endsWith('.js')));
const style = basename(outputs.find((p) => p.endsWith('.css')));
// Relative URLs: the page works under the host's base path (http.basePath) as at the root.
const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>meterhub</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="assets/${style}">
<script type="module" src="assets/${script}"></script>
</head>
<body>
<noscript>The meterhub dashboard needs JavaScript. The REST API is at api/.</noscript>
<div id="app"></div>
</body>
</html>
`;
writeFileSync(join(out, 'index.html'), html);

const compress = (file, key) => {
  const body = readFileSync(file);
  files[key] = { hash: createHash('sha256').update(body).digest('hex').slice(0, 16), bytes: body.length };
  const br = brotliCompressSync(body, { params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: body.length } });
  const gz = gzipSync(body, { level: 9 });
  writeFileSync(`${file}.br`, br);
  writeFileSync(`${file}.gz`, gz);
  files[key].br = br.length;
  files[key].gzip = gz.length;
};
compress(join(out, 'index.html'), 'index.html');
for (const name of [script, style]) compress(join(out, 'assets', name), name);
writeFileSync(join(out, 'manifest.json'), JSON.stringify({ script, style, files }, null, 2));
rmSync(final, { recursive: true, force: true });
renameSync(out, final);
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
console.log(`dashboard: ${script} ${kb(files[script].br)} br, ${style} ${kb(files[style].br)} br (${Date.now() - started} ms)`);
