// The Interventions view end to end, in headless Chromium (as test/e2e-explorer.test.ts: the page built with Vite,
// served by createServer on the fixture model): clicking heads redraws the bars with /api/next's ablated numbers and
// their change; the attribution bars sum to the logit /api/attribute reports; the patching heatmap's cells are
// /api/patch's `recovered`. Works at 390 px. Screenshots go to docs/screenshots/ (or $GPT2_LENS_SCREENSHOTS).
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { AutoTokenizer } from '../src/node/tokenizer.js';
import { createServer, type ExplorerServer } from '../src/server/index.js';
import type { Attribution, NextResponse, PatchResult } from '../src/server/types.js';
import { launchChromium, postJson, SHOTS, type Chromium } from './helpers/browser.js';
import { FIXTURE_DIR, REPO_ROOT } from './helpers/fixtures.js';

const WEB_DIST = join(REPO_ROOT, 'web', 'dist');
const PROMPT = 'The theory of relativity is';
const IOI = { clean: 'When Mary and John went to the store, John gave a drink to', corrupted: 'When John and Mary went to the store, Mary gave a drink to', answer: ' Mary', wrong: ' John' };

let server: ExplorerServer;
let url: string;
let browser: Chromium;
let context: BrowserContext;
let page: Page;
const pageErrors: string[] = [];

const api = <T>(path: string, body: unknown): Promise<T> => postJson<T>(url, path, body);

async function shot(name: string, fullPage = false): Promise<void> {
  await page.waitForTimeout(400); // the bars' transition over
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

/** The ablated table's rows as the page shows them. */
const rows = (): Promise<{ id: number; prob: number; unablated: number; delta: number }[]> =>
  page.locator('[data-iv-next] .iv-row').evaluateAll((els) =>
    els.map((e) => {
      const d = (e as HTMLElement).dataset;
      return { id: Number(d.id), prob: Number(d.prob), unablated: Number(d.unablatedProb), delta: Number(d.delta) };
    }),
  );

before(async () => {
  await build({ root: join(REPO_ROOT, 'web'), logLevel: 'warn' });
  mkdirSync(SHOTS, { recursive: true });
  const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  server = createServer({ model, tokenizer: await AutoTokenizer.from_pretrained(FIXTURE_DIR), modelName: 'gpt2-tiny (test fixture)', webRoot: WEB_DIST });
  url = (await server.listen(0)).url;
  browser = await launchChromium({ width: 1280, height: 900 });
  context = browser.context;
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await server?.close();
});

test('the Interventions view: ablation, attribution and patching show the API\'s numbers', { timeout: 180_000 }, async (t) => {
  const ids = (await api<{ ids: number[] }>('/api/tokenize', { text: PROMPT })).ids;

  await t.test('the view opens from its tab with a layer × head grid and the unablated table', async () => {
    await page.goto(url);
    await page.waitForSelector('#tab-interventions');
    await page.click('#tab-interventions');
    assert.equal(await page.getAttribute('section[data-view="interventions"]', 'hidden'), null);
    assert.equal(await page.locator('[data-head-grid] [data-head]').count(), 2 * 4);
    await page.waitForSelector('[data-iv-next][data-heads=""] .iv-row');
    const plain = await api<NextResponse>('/api/next', { input_ids: ids, top: 10 });
    const shown = await rows();
    assert.deepEqual(shown.map((r) => r.id), plain.top.map((c) => c.id));
    assert.deepEqual(shown.map((r) => r.prob), plain.top.map((c) => c.prob));
    assert.ok(shown.every((r) => r.delta === 0));
  });

  await t.test("clicking heads changes the bars to /api/next's ablated numbers, each with its change from the unablated run", async () => {
    await page.click('[data-head="1.2"]');
    await page.waitForSelector('[data-iv-next][data-heads="1.2"][data-kind="zero"][aria-busy="false"]');
    assert.equal(await page.getAttribute('[data-head="1.2"]', 'aria-pressed'), 'true');
    const zero = await api<NextResponse>('/api/next', { input_ids: ids, top: 10, ablate: ['1.2'], ablation: 'zero' });
    const check = async (want: NextResponse): Promise<void> => {
      const shown = await rows();
      const u = new Map(want.ablation!.unablated.map((x) => [x.id, x]));
      assert.deepEqual(shown.map((r) => r.id), want.top.map((c) => c.id));
      assert.deepEqual(shown.map((r) => r.prob), want.top.map((c) => c.prob));
      assert.deepEqual(shown.map((r) => r.unablated), want.top.map((c) => u.get(c.id)!.raw_prob));
      assert.deepEqual(shown.map((r) => r.delta), want.top.map((c) => c.prob - u.get(c.id)!.raw_prob));
      assert.ok(shown.some((r) => r.delta !== 0), 'the ablation moves some bar');
    };
    await check(zero);
    // a second head and mean ablation
    await page.click('[data-head="0.1"]');
    await page.check('#ablation-mean');
    await page.waitForSelector('[data-iv-next][data-heads="0.1,1.2"][data-kind="mean"][aria-busy="false"]');
    await check(await api<NextResponse>('/api/next', { input_ids: ids, top: 10, ablate: ['0.1', '1.2'], ablation: 'mean' }));
    assert.match(await page.textContent('[data-ablated-count]') ?? '', /2 ablated: 0\.1, 1\.2/);
    await shot('interventions-ablation');
    // restoring every head gives the unablated table back
    await page.click('#ablation-clear');
    await page.waitForSelector('[data-iv-next][data-heads=""][aria-busy="false"]');
    assert.ok((await rows()).every((r) => r.delta === 0));
  });

  await t.test('attribution: a bar per component, sorted, summing to the logit of the top token', async () => {
    const plain = await api<NextResponse>('/api/next', { input_ids: ids, top: 10 });
    const want = await api<Attribution>('/api/attribute', { input_ids: ids, target: plain.top[0]!.id });
    await page.waitForSelector(`[data-attribution][data-target="${plain.top[0]!.id}"]`);
    const bars = await page.locator('[data-attribution] .attr-row').evaluateAll((els) => els.map((e) => ({ name: (e as HTMLElement).dataset.name!, value: Number((e as HTMLElement).dataset.value) })));
    assert.equal(bars.length, want.components.length, 'the fixture has 15 components, all shown');
    const sorted = [...want.components].sort((a, b) => Math.abs(b.value) - Math.abs(a.value));
    assert.deepEqual(bars, sorted);
    const logit = Number(await page.getAttribute('[data-attribution]', 'data-logit'));
    assert.equal(logit, want.logit);
    assert.ok(Math.abs(bars.reduce((a, b) => a + b.value, 0) - logit) < 1e-4, 'the bars sum to the logit');
    assert.match(await page.textContent('.attr-sum') ?? '', /Σ of all 15 components = -?\d+\.\d{3} = the logit -?\d+\.\d{3}/);
    // another token
    await page.selectOption('#attr-target', String(plain.top[2]!.id));
    await page.waitForSelector(`[data-attribution][data-target="${plain.top[2]!.id}"]`);
    assert.equal(Number(await page.getAttribute('[data-attribution]', 'data-logit')), plain.top[2]!.logit);
  });

  await t.test("patching: the preset IOI pair's heatmap cells are /api/patch's recovered, for resid_pre and z", async () => {
    await page.fill('#patch-clean', 'something else');
    await page.click('#patch-preset');
    assert.equal(await page.inputValue('#patch-clean'), IOI.clean);
    for (const hook of ['resid_pre', 'z'] as const) {
      await page.selectOption('#patch-hook', hook);
      await page.click('#patch-run');
      await page.waitForSelector(`[data-patch-result][data-hook="${hook}"]`);
      const want = await api<PatchResult>('/api/patch', { ...IOI, hook });
      const cells = await page.locator('[data-patch-grid] .patch-cell').evaluateAll((els) => els.map((e) => [Number((e as HTMLElement).dataset.layer), (e as HTMLElement).dataset.col, Number((e as HTMLElement).dataset.recovered)]));
      assert.equal(cells.length, want.rows.length * want.cols.length);
      for (const [l, col, v] of cells as [number, string, number][]) assert.equal(v, want.recovered[l]![want.cols.indexOf(col)], `${hook} L${l} ${col}`);
      assert.equal(Number(await page.getAttribute('[data-clean-diff]', 'data-clean-diff')), want.clean_logit_diff);
      if (hook === 'resid_pre') await shot('interventions-patching', true);
    }
    assert.match(await page.textContent('[data-patch-legend]') ?? '', /blue.*white.*red/);
    // a mistake names its field
    await page.fill('#patch-corrupted', 'When John went');
    await page.click('#patch-run');
    await page.waitForSelector('[data-patch-error][data-param="corrupted"]');
    assert.equal(await page.getAttribute('#patch-corrupted', 'aria-invalid'), 'true');
  });

  await t.test('at 390 px: nothing wider than the screen, heads still click', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('#patch-preset');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scrolling');
    await page.click('[data-head="0.0"]');
    await page.waitForSelector('[data-iv-next][data-heads="0.0"][aria-busy="false"]');
    await shot('interventions-phone', true);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  await t.test('the page raised no error', () => {
    assert.deepEqual(pageErrors, []);
  });
});
