// gpt2-lens: a service worker that makes the static site cross-origin isolated on hosts that cannot set headers
// (GitHub Pages, most CDNs, `python3 -m http.server`). It answers the page's own requests from the network as
// usual and adds Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp, which the
// browser needs before it hands out SharedArrayBuffer (the engine's threads). Requests to other origins (the Hub)
// pass through untouched: they are CORS requests, which COEP allows. It caches nothing and talks to no one.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (new URL(req.url).origin !== self.location.origin) return;
  if (req.cache === 'only-if-cached' && req.mode !== 'same-origin') return;
  event.respondWith(
    fetch(req).then((res) => {
      if (res.status === 0) return res;
      const headers = new Headers(res.headers);
      headers.set('Cross-Origin-Opener-Policy', 'same-origin');
      headers.set('Cross-Origin-Embedder-Policy', 'require-corp');
      headers.set('Cross-Origin-Resource-Policy', 'same-origin');
      return new Response(res.body, { status: res.status, statusText: res.statusText, headers });
    }),
  );
});
