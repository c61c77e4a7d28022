// Builds the explorer's page into web/dist: `vite build web` (npm run build:web). Everything is bundled, so the page
// makes no request to any host but the gpt2-lens server that serves it.
import { defineConfig } from 'vite';

export default defineConfig({
  base: './',
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // no inlined data: URLs for fonts or images; everything is a file served by gpt2-lens
    assetsInlineLimit: 0,
  },
  server: {
    // `npx vite web` while working on the page: the API comes from a running `gpt2-lens serve` on port 8080.
    proxy: { '/api': 'http://127.0.0.1:8080' },
    headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' },
  },
});
