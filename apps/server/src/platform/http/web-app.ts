/**
 * Serves the browser app (apps/web/dist) same-origin under the strict CSP of security.ts. Client-side routes
 * (e.g. /maps/123) get index.html; API, health and docs paths never do, so an unknown API path stays a 404
 * problem+json. Without a build the server still runs and says how to make one.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';

export const WEB_DIST_DIR = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  '..',
  '..',
  'web',
  'dist',
);

const NOT_APP = /^\/(api|healthz|readyz|metrics|p\/|scim\/)/;

export async function installWebApp(app: FastifyInstance, distDir = WEB_DIST_DIR): Promise<boolean> {
  if (!existsSync(join(distDir, 'index.html'))) {
    app.log.warn(
      { distDir },
      'web app not built: run `npm run build` (npm start does it) to serve the browser app',
    );
    return false;
  }
  await app.register(fastifyStatic, {
    root: distDir,
    prefix: '/',
    wildcard: false,
    index: ['index.html'],
    cacheControl: false,
    // Hashed assets never change; index.html must be revalidated so a deploy is picked up.
    setHeaders: (res, path) => {
      res.setHeader(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.get('/*', { schema: { hide: true } }, async (request, reply) => {
    const path = request.url.split('?')[0] ?? '/';
    const wantsHtml = (request.headers.accept ?? '').includes('text/html');
    if (NOT_APP.test(path)) return reply.callNotFound();
    // A file that appeared after start (a rebuilt web app): served from the same root, traversal-safe.
    if (/\.[a-z0-9]+$/i.test(path)) return reply.sendFile(decodeURIComponent(path.slice(1)));
    if (!wantsHtml) return reply.callNotFound();
    return reply.header('cache-control', 'no-cache').sendFile('index.html');
  });
  return true;
}
