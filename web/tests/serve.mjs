// A static file server for the built site (web/dist), for the browser tests and benchmarks:
// `node web/tests/serve.mjs [root] [port]` prints `listening http://127.0.0.1:<port>/` once
// it accepts connections (port 0, the default, picks a free one). It serves files only, like
// any plain static host (the site's own kiln-server.json says there is no server, so the page
// runs offline), with the cache headers kiln serve sends: a file named by its content
// (`name.<16 hex>.ext`) cached for a year, everything else revalidated (304 while unchanged).
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.svg': 'image/svg+xml',
};

/** Starts serving `root` on 127.0.0.1:`port`; resolves to the server once it listens. */
export function serve(root, port = 0) {
  const base = resolve(root);
  const server = createServer(async (req, res) => {
    const path = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    let file = normalize(join(base, path));
    if (file !== base && !file.startsWith(base + sep)) {
      res.writeHead(403).end('forbidden');
      return;
    }
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      const modified = (await stat(file)).mtime.toUTCString();
      const cache = /\.[0-9a-f]{16}\.[^./]+$/.test(file) ? 'public, max-age=31536000, immutable' : 'no-cache';
      if (req.headers['if-modified-since'] === modified) {
        res.writeHead(304, { 'Cache-Control': cache, 'Last-Modified': modified }).end();
        return;
      }
      const body = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] || 'application/octet-stream', 'Cache-Control': cache, 'Last-Modified': modified });
      res.end(body);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });
  return new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, '127.0.0.1', () => ok(server));
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const here = fileURLToPath(new URL('.', import.meta.url));
  const root = process.argv[2] || join(here, '..', 'dist');
  const server = await serve(root, Number(process.argv[3] || 0));
  console.log(`listening http://127.0.0.1:${server.address().port}/`);
}
