// npx tsx scripts/check-engine-browser.ts [--chromium PATH]: runs the wasm engine in headless Chromium, on a
// cross-origin isolated page (COOP/COEP headers), with 1 thread and with 2 Web Workers (browserWorkerSpawner), on
// the page's main thread, and checks it against the reference path there. Needs a Chromium binary (default
// /usr/bin/chromium) and playwright-core; bundles with esbuild (a dependency of tsx and vite).
import { build } from 'esbuild';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const ci = process.argv.indexOf('--chromium');
const executablePath = ci >= 0 ? process.argv[ci + 1]! : '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'engine-browser-'));

const entry = `
import { WasmEngine, browserWorkerSpawner } from ${JSON.stringify(join(root, 'src/engine/index.ts'))};
import { GPT2_DEFAULTS, randomWeights, gpt2Forward } from ${JSON.stringify(join(root, 'src/model/index.ts'))};
async function main() {
  const config = { ...GPT2_DEFAULTS, n_embd: 64, n_layer: 2, n_head: 4, vocab_size: 1003, n_positions: 64 };
  const weights = randomWeights(config, 5);
  for (let i = 0; i < weights.wte.length; i++) weights.wte[i] *= 25;
  const ids = [3, 14, 15, 92, 65, 35, 89, 79];
  const pos = ids.map((_, i) => i);
  const ref = gpt2Forward(config, weights, { input_ids: [ids], attention_mask: null, position_ids: [pos], cache: null,
    output_hidden_states: false, output_attentions: false, capture: null, lm_head: true, num_logits_to_keep: 0 }).logits.data;
  const one = await WasmEngine.create(config, weights);
  const two = await WasmEngine.create(config, weights, { threads: 2, spawn: browserWorkerSpawner() });
  const args = { ids, positions: pos, mask: null, batch: 1, cache: null, keep: 0 };
  const a = one.forward(args).logits;
  const b = two.forward(args).logits;
  let maxDiff = 0, same = true;
  for (let i = 0; i < ref.length; i++) { maxDiff = Math.max(maxDiff, Math.abs(a[i] - ref[i])); if (a[i] !== b[i]) same = false; }
  // decode a few tokens on 2 threads with a cache
  const cache = two.newCache(1, 32);
  two.forward({ ...args, cache, keep: 1 });
  for (let s = 0; s < 4; s++) two.forward({ ids: [s + 7], positions: [8 + s], mask: null, batch: 1, cache, keep: 1 });
  two.dispose();
  return { crossOriginIsolated: globalThis.crossOriginIsolated, simd: one.simd, maxDiff, threadsBitEqual: same, cacheLength: cache.length };
}
main().then((r) => { globalThis.result = r; }, (e) => { globalThis.result = { error: String(e && e.stack || e) }; });
`;
writeFileSync(join(dir, 'entry.js'), entry);
await build({ entryPoints: [join(dir, 'entry.js')], bundle: true, format: 'esm', platform: 'browser', outfile: join(dir, 'bundle.js'), logLevel: 'warning' });
writeFileSync(join(dir, 'index.html'), '<!doctype html><script type="module" src="/bundle.js"></script>');

// The headers that make a page cross-origin isolated (SharedArrayBuffer, shared WebAssembly.Memory).
const server = createServer((req, res) => {
  const file = req.url === '/bundle.js' ? 'bundle.js' : 'index.html';
  res.writeHead(200, {
    'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/html',
    'cross-origin-opener-policy': 'same-origin',
    'cross-origin-embedder-policy': 'require-corp',
  });
  res.end(readFileSync(join(dir, file)));
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const port = (server.address() as { port: number }).port;

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage();
  page.on('console', (m) => console.log(`[page] ${m.text()}`));
  await page.goto(`http://127.0.0.1:${port}/`);
  await page.waitForFunction(() => (globalThis as { result?: unknown }).result !== undefined, null, { timeout: 60000 });
  const result = (await page.evaluate(() => (globalThis as { result?: unknown }).result)) as Record<string, unknown>;
  console.log(JSON.stringify(result));
  const ok = result.crossOriginIsolated === true && (result.maxDiff as number) < 1e-4 && result.threadsBitEqual === true && result.cacheLength === 12;
  console.log(ok ? 'browser engine check: OK' : 'browser engine check: FAILED');
  process.exitCode = ok ? 0 : 1;
} finally {
  await browser.close();
  server.close();
  rmSync(dir, { recursive: true, force: true });
}
