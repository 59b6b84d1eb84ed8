import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import express, { type Router } from 'express';
import { MeterhubError } from '@meterhub/sdk';

/** The files of swagger-ui-dist the page needs; nothing else of the package is served. */
const ASSETS: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'swagger-ui-standalone-preset.js': 'text/javascript; charset=utf-8',
};

const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>meterhub API</title><link rel="stylesheet" href="swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="swagger-ui-bundle.js"></script><script src="swagger-ui-standalone-preset.js"></script><script src="init.js"></script>
</body>
</html>
`;

const INIT = `window.ui = SwaggerUIBundle({
  url: '../schema/', dom_id: '#swagger-ui', deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout',
});
`;

/**
 * `/api/docs/`: a readable reference of `/api/schema/` (Swagger UI from the
 * swagger-ui-dist package, served by the host; no CDN, so it works offline on
 * a LAN). Documentation only: no authentication, like the schema itself.
 */
export function apiDocsRouter(): Router {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const router = express.Router({ strict: true });
  const cache = new Map<string, Buffer>();
  router.get('/api/docs/', (_req, res) => {
    res.type('html').setHeader('cache-control', 'no-cache');
    res.send(PAGE);
  });
  router.get('/api/docs/init.js', (_req, res) => {
    res.type('text/javascript').send(INIT);
  });
  router.get('/api/docs/:asset', (req, res, next) => {
    const name = req.params['asset']!;
    const type = ASSETS[name];
    if (!type) {
      next(new MeterhubError('METERHUB_ERR_HTTP_NOT_FOUND', 'no such file of the API reference'));
      return;
    }
    const cached = cache.get(name);
    const send = (body: Buffer) => {
      res.setHeader('content-type', type);
      res.setHeader('cache-control', 'public, max-age=86400');
      res.send(body);
    };
    if (cached) send(cached);
    else readFile(join(dist, name)).then((body) => {
      cache.set(name, body);
      send(body);
    }, next);
  });
  return router;
}
