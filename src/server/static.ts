// The explorer's files (web/dist, built by Vite), with the headers a page that may run WebAssembly threads needs.
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';
import { packageRoot } from '../node/tokenizer.js';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.txt': 'text/plain; charset=utf-8',
};

/** The MIME type served for a file name (application/octet-stream when unknown). */
export function mimeType(path: string): string {
  return MIME[extname(path).toLowerCase()] ?? 'application/octet-stream';
}

/**
 * Headers on every response. COOP + COEP make the page cross-origin isolated, which browsers require before they
 * hand out SharedArrayBuffer (WebAssembly threads). The CSP keeps the page from fetching anything from another host.
 */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'X-Content-Type-Options': 'nosniff',
  'Content-Security-Policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; style-src 'self' 'unsafe-inline'; " +
    "img-src 'self' data:; connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'none'",
};

/** web/dist in the package folder (the same from src/ under tsx and from dist/src/ when built). */
export function defaultWebRoot(): string {
  return join(packageRoot(), 'web', 'dist');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>gpt2-lens</title>
<p>The explorer's page is not built. Run <code>npm run build:web</code> (or <code>npm start</code>), then reload.
The JSON API under <code>/api/</code> works without it.</p>`;

/** Serves GET/HEAD requests for files under `root`; `/` is index.html. Returns false when nothing matched. */
export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): boolean {
  if (req.method !== 'GET' && req.method !== 'HEAD') return false;
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return false;
  }
  if (rel.endsWith('/')) rel += 'index.html';
  // normalize() folds "..": anything that still climbs out of root is refused.
  const file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return false;
  let size: number;
  try {
    const st = statSync(file);
    if (!st.isFile()) return false;
    size = st.size;
  } catch {
    if (rel === '/index.html') {
      res.writeHead(503, { 'Content-Type': 'text/html; charset=utf-8', ...SECURITY_HEADERS });
      res.end(NOT_BUILT);
      return true;
    }
    return false;
  }
  res.writeHead(200, {
    'Content-Type': mimeType(file),
    'Content-Length': String(size),
    // Vite puts a content hash in every name under assets/; index.html must be fetched afresh.
    'Cache-Control': rel.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
    ...SECURITY_HEADERS,
  });
  if (req.method === 'HEAD') res.end();
  else {
    const stream = createReadStream(file);
    stream.on('error', () => res.destroy()); // the file went away after stat: end this response, not the server
    stream.pipe(res);
  }
  return true;
}
