// The static site end to end, in a real headless Chromium (Debian's `chromium`, driven by playwright-core): the
// built site/ (vite build --mode site) served by a plain static file server (test/helpers/static-server.ts: no
// COOP/COEP, no gpt2-lens code), and the fake Hub (test/helpers/hub-server.ts, with the Hub's CORS headers) on
// another port holding the gpt2-tiny fixture as org/gpt2-tiny. The model runs in the page's Web Worker.
// Screenshots of the site go to docs/screenshots/ (or $GPT2_LENS_SCREENSHOTS).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { launchChromium, SHOTS, type Chromium } from './helpers/browser.js';
import { REPO_ROOT, readGolden } from './helpers/fixtures.js';
import { FAKE_COMMIT, FakeHub } from './helpers/hub-server.js';
import { serveFolder, type StaticServer } from './helpers/static-server.js';

const SITE = join(REPO_ROOT, 'site');

interface ForwardCase {
  text: string;
  input_ids: number[];
  logits_summary: { top5_ids: number[][]; top5_logits: number[][]; logsumexp: number[] };
}

let site: StaticServer;
let hub: FakeHub;
let hubUrl: string;
let browser: Chromium;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const pageErrors: string[] = [];

before(async () => {
  // Build the site from the current sources (a few seconds), as `npm run build:site` does.
  await build({ root: join(REPO_ROOT, 'web'), mode: 'site', logLevel: 'warn' });
  assert.ok(existsSync(join(SITE, 'index.html')) && existsSync(join(SITE, 'coi-sw.js')));
  mkdirSync(SHOTS, { recursive: true });
  site = await serveFolder(SITE);
  // small chunks with pauses: the 22 MB download lasts long enough (~1.5 s) for its progress to be seen
  hub = await new FakeHub({ chunkBytes: 256 * 1024, chunkDelayMs: 15 }).start();
  hubUrl = hub.url;
  browser = await launchChromium({ width: 1280, height: 860 });
  context = browser.context;
  // every request of every page, worker and service worker of the context
  context.on('request', (r) => requests.push(r.url()));
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await site?.close();
  await hub?.stop();
});

const modelUrl = (): string => `${site.url}/?model=org/gpt2-tiny&endpoint=${encodeURIComponent(hubUrl)}`;
const rows = (): Promise<{ id: number; prob: number }[]> =>
  page.locator('.rows .row').evaluateAll((els) => els.map((e) => ({ id: Number((e as HTMLElement).dataset.tokenId), prob: Number((e as HTMLElement).dataset.prob) })));
const cachedFiles = (): Promise<string[]> =>
  page.evaluate(async () => (await (await caches.open('gpt2-lens-hub-v1')).keys()).map((r) => decodeURIComponent(new URL(r.url).pathname)));

/** Waits until the table's top 5 ids are `ids` (the table for the prompt typed last). */
async function waitTop5(ids: number[]): Promise<void> {
  await page.waitForFunction((want) => {
    const got = [...document.querySelectorAll('.rows .row')].slice(0, 5).map((e) => (e as HTMLElement).dataset.tokenId);
    return got.join() === want.join() && document.querySelector('.next-table')?.getAttribute('aria-busy') === 'false';
  }, ids.map(String));
}

test('the static site in headless Chromium: download, verify, cache, resume, goldens', { timeout: 120_000 }, async (t) => {
  await t.test('a corrupted LFS file is refused and not kept', async () => {
    hub.fail({ file: 'model.safetensors', kind: 'corrupt' });
    await page.goto(modelUrl());
    const err = await page.waitForSelector('#load-error');
    assert.match((await err.textContent()) ?? '', /^checksum mismatch for model\.safetensors: the Hub says sha256 [0-9a-f]{64}, the downloaded bytes hash to [0-9a-f]{64}; the file was refused \(not kept\)$/);
    assert.deepEqual((await cachedFiles()).filter((k) => k.endsWith('/model.safetensors')), [], 'the corrupt weights are not in the cache');
    // the service worker made the plain static server's page cross-origin isolated
    assert.equal(await page.evaluate(() => crossOriginIsolated), true);
    assert.equal(await page.locator('#threads-note').count(), 0);
  });

  await t.test('the first download shows its progress, resumes a cut with Range, and loads the model', async () => {
    const before = hub.requests.length;
    hub.fail({ file: 'model.safetensors', kind: 'drop', afterBytes: 1_000_000 });
    await page.click('#model-load');
    await page.waitForFunction(() => Number((document.querySelector('#download-progress') as HTMLProgressElement | null)?.value) > 0);
    assert.match((await page.textContent('#download-text')) ?? '', /^[\d.]+ (KiB|MiB) of 22\.\d MiB · [\w.]+ · [\d.]+ (B|KiB|MiB)\/s · (time left …|\d+ s left)/);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 30_000 });
    const cdn = hub.requests.slice(before).filter((r) => r.path.startsWith('/cdn/') && r.range !== 'bytes=0-0');
    assert.equal(cdn.length, 2, `one cut download and one resume: ${JSON.stringify(cdn)}`);
    assert.equal(cdn[0]!.range, undefined);
    const from = Number(/^bytes=(\d+)-$/.exec(cdn[1]!.range ?? '')?.[1]);
    assert.ok(from > 0 && from <= 1_000_000, `resumed from byte ${from}`);
    assert.equal(cdn[1]!.status, 206);
    assert.match((await page.textContent('#model-loaded')) ?? '', new RegExp(`^org/gpt2-tiny @ ${FAKE_COMMIT.slice(0, 10)} · downloaded in [\\d.]+ s · wasm simd \\(fp32, \\d threads?\\)`));
    assert.equal(await page.locator('[data-view="next"]').count(), 1);
    await page.screenshot({ path: join(SHOTS, 'site-next-token.png') });
  });

  await t.test('the next-token table equals the HF goldens for the fixture prompts', async () => {
    const cases = readGolden<{ cases: ForwardCase[] }>('golden-forward.json').cases;
    let checked = 0;
    for (const c of cases) {
      await page.fill('#prompt', c.text);
      const last = c.input_ids.length - 1;
      await waitTop5(c.logits_summary.top5_ids[last]!);
      const got = (await rows()).slice(0, 5);
      c.logits_summary.top5_logits[last]!.forEach((logit, i) => {
        const want = Math.exp(logit - c.logits_summary.logsumexp[last]!);
        assert.ok(Math.abs(got[i]!.prob - want) < 1e-5, `${JSON.stringify(c.text)} row ${i}: prob ${got[i]!.prob}, HF ${want}`);
      });
      checked++;
    }
    assert.equal(checked, 6);
  });

  await t.test('a reload with the Hub stopped loads from the browser cache, with no request to it', async () => {
    await hub.stop();
    // the address keeps the prompt (URL state): come back to the first golden prompt before reloading
    await page.fill('#prompt', 'The theory of relativity is');
    await page.waitForFunction(() => new URLSearchParams(location.search).get('prompt') === 'The theory of relativity is');
    const before = requests.length;
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]');
    assert.match((await page.textContent('#model-loaded')) ?? '', /from this browser's cache/);
    assert.equal(requests.slice(before).filter((u) => u.startsWith(hubUrl)).length, 0);
    // the address kept the prompt (URL state), so the reload shows that prompt and its table
    const cases = readGolden<{ cases: ForwardCase[] }>('golden-forward.json').cases;
    const first = cases.find((c) => c.text === 'The theory of relativity is')!;
    assert.equal(await page.inputValue('#prompt'), first.text);
    await waitTop5(first.logits_summary.top5_ids.at(-1)!);
    // the cache list says what is kept, and deletes it
    await page.click('#cache-list summary');
    assert.match((await page.textContent('#cache-list li[data-repo="org/gpt2-tiny"]')) ?? '', /^org\/gpt2-tiny @ 5a1c0ffee0 from http:\/\/127\.0\.0\.1:\d+: 22\.\d MiB/);
    await page.screenshot({ path: join(SHOTS, 'site-cache.png') });
  });

  await t.test('a URL with model and endpoint restores them; random: needs no download and says so', async () => {
    await page.goto(`${site.url}/?model=random:64x2x4@1&endpoint=${encodeURIComponent(hubUrl)}`);
    await page.waitForSelector('body[data-ready="true"]');
    assert.match((await page.textContent('#random-banner')) ?? '', /These weights are random \(random:64x2x4@1\)/);
    assert.equal(await page.inputValue('#model-endpoint'), hubUrl);
    await page.goto(modelUrl());
    await page.waitForSelector('body[data-ready="true"]');
    assert.equal(await page.inputValue('#model-repo'), 'org/gpt2-tiny');
    assert.equal(await page.inputValue('#model-endpoint'), hubUrl);
    assert.match((await page.textContent('#model-info')) ?? '', /^org\/gpt2-tiny · 3\.4M parameters · 2 layers × 4 heads/);
  });

  await t.test('deleting the cached model empties the cache', async () => {
    await page.click('#cache-list summary');
    await page.click('#cache-list li[data-repo="org/gpt2-tiny"] .cache-delete');
    await page.waitForFunction(() => !document.querySelector('#cache-list li[data-repo="org/gpt2-tiny"]'));
    assert.deepEqual(await cachedFiles(), []);
  });

  await t.test('every request went to the page\'s origin or the fake Hub', () => {
    const elsewhere = requests.filter((u) => !u.startsWith(`${site.url}/`) && !u.startsWith(`${hubUrl}/`) && !u.startsWith('blob:') && !u.startsWith('data:'));
    assert.deepEqual(elsewhere, []);
    assert.ok(requests.some((u) => u.startsWith(`${hubUrl}/org/gpt2-tiny/resolve/main/config.json`)));
    assert.ok(requests.some((u) => u.startsWith(`${hubUrl}/org/gpt2-tiny/raw/${FAKE_COMMIT}/model.safetensors`)), 'the LFS pointer gave the sha256');
    assert.deepEqual(pageErrors, []);
  });
});
