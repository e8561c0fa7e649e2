/**
 * A static file server for the browser suite: serves folders under URL prefixes with the
 * COOP/COEP headers that make a page cross-origin isolated (SharedArrayBuffer, so the wasm
 * backend can run threaded). Localhost only.
 */
import { createReadStream, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.bin': 'application/octet-stream',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** Headers that make every page cross-origin isolated. */
export const ISOLATION_HEADERS = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
} as const;

export interface StaticServer {
  url: string;
  close(): Promise<void>;
}

/**
 * Serves `routes` (URL prefix → folder; the longest matching prefix wins) on 127.0.0.1 at a
 * free port. A path ending in `/` serves its `index.html`.
 */
export async function serveStatic(routes: Record<string, string>): Promise<StaticServer> {
  const table = Object.entries(routes)
    .map(([prefix, dir]) => [prefix, resolve(dir)] as const)
    .sort((a, b) => b[0].length - a[0].length);
  const server: Server = createServer((req, res) => {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const route = table.find(([prefix]) => path.startsWith(prefix));
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'Content-Type': 'text/plain', ...ISOLATION_HEADERS });
      res.end(body);
    };
    if (!route) return send(404, 'not found');
    const [prefix, dir] = route;
    let file = normalize(join(dir, path.slice(prefix.length)));
    if (file !== dir && !file.startsWith(dir + sep)) return send(403, 'forbidden');
    try {
      if (statSync(file).isDirectory()) file = join(file, 'index.html');
      const size = statSync(file).size;
      res.writeHead(200, {
        'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream',
        'Content-Length': size,
        'Cache-Control': 'no-store',
        ...ISOLATION_HEADERS,
      });
      createReadStream(file).pipe(res);
    } catch {
      send(404, `not found: ${path}`);
    }
  });
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
}
