import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/**
 * The CSP the Canopy server is expected to send with the web app (no inline script or style, no other origins;
 * `blob:` images for topic images fetched by the app). Serving the bench with it proves the build works under it.
 */
export const STRICT_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; font-src 'self'; " +
  "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

/** Answers a path outside the app (the peer's page), or undefined to fall through to the app. */
export type ExtraRoute = (url: URL) => Promise<{ type: string; body: Buffer | string } | undefined>;

/** Serves a built single-page app from `root` on 127.0.0.1 (any unknown path gets index.html). */
export async function serveStatic(
  root: string,
  extra?: ExtraRoute,
): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = decodeURIComponent(url.pathname);
    if (extra && path.startsWith('/peer/')) {
      extra(url).then(
        (answer) => {
          res.writeHead(answer ? 200 : 404, {
            'content-type': answer?.type ?? 'text/plain',
            'cache-control': 'no-store',
          });
          res.end(answer?.body ?? 'not found');
        },
        (error: unknown) => {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(error));
        },
      );
      return;
    }
    const file = normalize(join(root, path));
    const inside = file.startsWith(root + sep);
    const send = (body: Buffer, type: string) => {
      res.writeHead(200, {
        'content-type': type,
        'content-security-policy': STRICT_CSP,
        'cache-control': 'no-store',
      });
      res.end(body);
    };
    (inside && extname(file) ? readFile(file) : Promise.reject(new Error('spa')))
      .then((body) => send(body, TYPES[extname(file)] ?? 'application/octet-stream'))
      .catch(async () => {
        if (path.startsWith('/api/')) {
          res.writeHead(404, { 'content-type': 'application/problem+json' });
          res.end(
            JSON.stringify({ type: 'about:blank', title: 'Not Found', status: 404, code: 'not_found' }),
          );
          return;
        }
        send(await readFile(join(root, 'index.html')), TYPES['.html']!);
      });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return {
    url: `http://127.0.0.1:${address.port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
