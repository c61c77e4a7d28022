// Builds the explorer's page with Vite. Everything is bundled, so the page makes no request to any host but the
// one that serves it (and, on the static site, the Hub address the visitor chose).
//
//   vite build web               -> web/dist: the page `gpt2-lens serve` serves; the API is HTTP (npm run build:web)
//   vite build web --mode site   -> site/: the static site; the model runs in a Web Worker (npm run build:site),
//                                   with coi-sw.js (web/site-public/), the service worker that isolates the page
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

export default defineConfig(({ mode }) => {
  const site = mode === 'site';
  return {
    base: './',
    oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
    define: { __GPT2_LENS_SITE__: JSON.stringify(site) },
    publicDir: site ? fileURLToPath(new URL('./site-public', import.meta.url)) : false,
    worker: { format: 'es' },
    build: {
      outDir: site ? fileURLToPath(new URL('../site', import.meta.url)) : 'dist',
      emptyOutDir: true,
      target: 'es2022',
      sourcemap: false,
      // no inlined data: URLs for fonts or images; everything is a file served by the same host
      assetsInlineLimit: 0,
    },
    server: {
      // `npx vite web` while working on the page: the API comes from a running `gpt2-lens serve` on port 8080.
      proxy: { '/api': 'http://127.0.0.1:8080' },
      headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
    },
  };
});
