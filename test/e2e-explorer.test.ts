// The explorer end to end, in a real headless Chromium (Debian's `chromium`, driven by playwright-core): the page is
// built with Vite, served by createServer on the fixture model, and used as a person would: type a prompt, read the
// chips and bars, move the knobs, step, run beam search, open attention and the logit lens, compare strategies.
// A screenshot of each view goes to docs/screenshots/ (or $GPT2_LENS_SCREENSHOTS).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import '../src/model/node.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { AutoTokenizer } from '../src/tokenizer/node.js';
import type { GPT2Tokenizer } from '../src/tokenizer/index.js';
import { createServer, type ExplorerServer } from '../src/server/index.js';
import type { GenerateResponse, NextResponse } from '../src/server/types.js';
import { fixed2, percent, visible } from '../web/src/format.js';
import { FIXTURE_DIR, REPO_ROOT, readGolden } from './helpers/fixtures.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const SHOTS = process.env.GPT2_LENS_SCREENSHOTS ?? join(REPO_ROOT, 'docs', 'screenshots');
const WEB_DIST = join(REPO_ROOT, 'web', 'dist');

let server: ExplorerServer;
let randomServer: ExplorerServer;
let url: string;
let tokenizer: GPT2Tokenizer;
let context: BrowserContext;
let profile: string;
let page: Page;
const requests: string[] = [];
const pageErrors: string[] = [];

async function api<T>(path: string, body: unknown): Promise<T> {
  const res = await fetch(new URL(path, url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal(res.status, 200);
  return (await res.json()) as T;
}

async function shot(name: string, fullPage = false): Promise<void> {
  // a still picture: no table waiting for an answer, the bars' 0.25 s transition over
  await page.waitForFunction(() => document.querySelector('.next-table')?.getAttribute('aria-busy') !== 'true');
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

before(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the end-to-end test needs it. Install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH.`);
  }
  // Build the page from the current sources (a few seconds), so the test never runs against a stale web/dist.
  await build({ root: join(REPO_ROOT, 'web'), logLevel: 'warn' });
  assert.ok(existsSync(join(WEB_DIST, 'index.html')));
  mkdirSync(SHOTS, { recursive: true });

  const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  tokenizer = await AutoTokenizer.from_pretrained(FIXTURE_DIR);
  server = createServer({ model, tokenizer, modelName: 'gpt2-tiny (test fixture)', webRoot: WEB_DIST });
  url = (await server.listen(0)).url;
  randomServer = createServer({ model: await GPT2LMHeadModel.from_pretrained('random:64x2x4@1'), tokenizer, webRoot: WEB_DIST });

  profile = mkdtempSync(join(tmpdir(), 'gpt2-lens-chromium-'));
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await context.newPage();
  page.setDefaultTimeout(20_000);
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await context?.close();
  await server?.close();
  await randomServer?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

const chipTexts = (): Promise<string[]> => page.locator('.chips .chip').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
const rowIds = (): Promise<number[]> => page.locator('.rows .row').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.id)));
const afterWidths = (): Promise<string[]> => page.locator('.rows .bar.after').evaluateAll((els) => els.map((e) => (e as HTMLElement).style.width));

async function typePrompt(text: string): Promise<void> {
  await page.fill('#prompt', text);
  const ids = tokenizer.encode(text);
  await page.waitForFunction((n) => document.querySelectorAll('.chips .chip').length === n, ids.length);
}

test('the explorer, used as a person would, in headless Chromium', { timeout: 180_000 }, async (t) => {
  await t.test('the page loads with the model named and the default prompt as chips', async () => {
    await page.goto(url);
    await page.waitForSelector('#model-info');
    assert.match(await page.textContent('#model-info') ?? '', /gpt2-tiny \(test fixture\) · 3\.4M parameters · 2 layers × 4 heads/);
    await page.waitForSelector('.rows .row');
    assert.deepEqual(await chipTexts(), ['The', '·theory', '·of', '·relativity', '·is']);
    assert.equal(await page.locator('#random-banner').count(), 0, 'no random banner for real weights');
  });

  await t.test('typing a prompt gives its chips, partial characters marked, and the next-token bars', async () => {
    // golden forward case "the cat sat on the mat and the cat": HF's top 5 at the last position
    const golden = readGolden<{ cases: { text: string; logits_summary: { top5_ids: number[][] } }[] }>('golden-forward.json').cases;
    const cat = golden.find((c) => c.text === 'the cat sat on the mat and the cat')!;
    await typePrompt(cat.text);
    await page.waitForFunction((id) => (document.querySelector('.rows .row') as HTMLElement | null)?.dataset.id === String(id), cat.logits_summary.top5_ids.at(-1)![0]);
    assert.deepEqual((await rowIds()).slice(0, 5), cat.logits_summary.top5_ids.at(-1));
    assert.equal(await page.locator('.rows .row').count(), 10);

    await typePrompt('Paul Erdős proved that');
    const chips = page.locator('.chips .chip');
    assert.deepEqual(await chipTexts(), ['Paul', '·Erd', 'c5', '91', 's', '·proved', '·that']);
    assert.equal(await page.locator('.chips .chip.partial').count(), 2, 'ő is split over two tokens, each marked');
    assert.match((await chips.nth(2).getAttribute('title')) ?? '', /^id \d+ · bytes c5 · part of a character$/);
    assert.match(await page.textContent('#token-count') ?? '', /^7 tokens/);
    // clicking a chip selects the text it covers: both halves of ő cover the whole character
    await chips.nth(3).click();
    assert.deepEqual(await page.$eval('#prompt', (el) => [(el as HTMLTextAreaElement).selectionStart, (el as HTMLTextAreaElement).selectionEnd]), [8, 9]);
    await chips.nth(1).click();
    assert.equal(await page.$eval('#prompt', (el) => { const t = el as HTMLTextAreaElement; return t.value.slice(t.selectionStart, t.selectionEnd); }), ' Erd');
    const next = await api<NextResponse>('/api/next', { text: 'Paul Erdős proved that', top: 10 });
    await page.waitForFunction((id) => (document.querySelector('.rows .row') as HTMLElement | null)?.dataset.id === String(id), next.top[0]!.id);
    assert.deepEqual(await rowIds(), next.top.map((c) => c.id));
    const labels = await page.locator('.rows .row-token').allTextContents();
    assert.deepEqual(labels, next.top.map((c) => visible(c.token)));
    await shot('next-token');
  });

  await t.test('moving temperature changes the bars; top-k removes tokens and says so', async () => {
    const before = await afterWidths();
    await page.locator('#knob-temperature').fill('2');
    await page.waitForFunction(() => document.querySelector('#knob-temperature-value')?.textContent === '2.00');
    await page.waitForFunction((old) => {
      const now = [...document.querySelectorAll('.rows .bar.after')].map((e) => (e as HTMLElement).style.width);
      return now.join() !== old.join();
    }, before);
    const hot = await afterWidths();
    assert.notDeepEqual(hot, before);
    // a flatter distribution: the top bar shrinks relative to the others
    const want = await api<NextResponse>('/api/next', { text: 'Paul Erdős proved that', top: 10, temperature: 2 });
    assert.equal(await page.locator('.rows .row-p').first().textContent(), `${percent(want.processed[0]!.prob)} (raw ${percent(want.top[0]!.prob)})`);

    await page.locator('#knob-top_k').fill('4');
    await page.waitForFunction(() => document.querySelectorAll('.rows .row.removed').length === 6);
    const badges = await page.locator('.rows .row.removed .badge').allTextContents();
    assert.deepEqual(badges, Array(6).fill('removed by top-k'));
    assert.match(await page.textContent('.summary') ?? '', /^top-k removed 50,253 tokens · 4 tokens left to sample from\.$/);
    await shot('knobs');
  });

  await t.test('step mode: click a candidate to append it, undo, step, hover for alternatives', async () => {
    const base = (await chipTexts()).length;
    const second = page.locator('.rows .row').nth(1);
    const id = Number(await second.getAttribute('data-id'));
    await second.click();
    await page.waitForFunction((n) => document.querySelectorAll('.chips .chip').length === n, base + 1);
    const chip = page.locator('.chips .chip.generated').last();
    assert.equal(Number(await chip.getAttribute('data-id')), id);
    assert.match(await page.textContent('#token-count') ?? '', /\+ 1 generated/);

    await page.click('#undo');
    await page.waitForFunction((n) => document.querySelectorAll('.chips .chip').length === n, base);

    // keyboard: focus the first candidate and press Enter, once the table is the one for this text again
    await page.waitForFunction(() => document.querySelector('.next-table')?.getAttribute('aria-busy') === 'false');
    const first = Number(await page.locator('.rows .row').first().getAttribute('data-id'));
    const promptIds = tokenizer.encode('Paul Erdős proved that');
    assert.equal(first, (await api<NextResponse>('/api/next', { input_ids: promptIds, top: 1 })).top[0]!.id);
    await page.locator('.rows .row').first().focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction((n) => document.querySelectorAll('.chips .chip').length === n, base + 1);
    assert.equal(Number(await page.locator('.chips .chip.generated').last().getAttribute('data-id')), first);
    // Step (greedy) takes the top of the distribution after the knobs
    const ids = await page.locator('.chips .chip').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.id)));
    const top = (await api<NextResponse>('/api/next', { input_ids: ids, temperature: 2, top_k: 4 })).processed[0]!.id;
    await page.waitForFunction((id) => (document.querySelector('.rows .row') as HTMLElement | null)?.dataset.id === String(id), top);
    await page.click('#step');
    await page.waitForFunction((n) => document.querySelectorAll('.chips .chip').length === n, base + 2);
    assert.equal(Number(await page.locator('.chips .chip.generated').last().getAttribute('data-id')), top);
    await page.locator('.chips .chip.generated').last().hover();
    await page.waitForSelector('.popover');
    assert.equal(await page.locator('.popover .alt').count(), 4, 'the alternatives after the knobs (top-k 4)');
    assert.match(await page.locator('.chips .chip.generated').last().getAttribute('style') ?? '', /background/);
    await shot('step-mode');
    await page.mouse.move(0, 0);
    // back to plain settings for the next views
    await page.getByRole('button', { name: 'Reset knobs' }).click();
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.waitForFunction((n) => document.querySelectorAll('.chips .chip').length === n, base);
  });

  await t.test('auto-step (greedy) writes what greedy generate() writes; sampling steps draw from the server', async () => {
    const prompt = 'Paul Erdős proved that';
    const ids = tokenizer.encode(prompt);
    const greedy = await api<GenerateResponse>('/api/generate', { text: prompt, max_new_tokens: 3 });
    await page.click('#auto');
    await page.waitForFunction((n) => document.querySelectorAll('.chips .chip.generated').length >= n, 3);
    await page.click('#auto'); // pause
    const got = await page.locator('.chips .chip.generated').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.id)));
    assert.deepEqual(got.slice(0, 3), greedy.sequences[0]!.ids.slice(ids.length));
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.selectOption('select[aria-label="How Step picks a token"]', 'sample');
    await page.click('#step');
    await page.waitForFunction(() => document.querySelectorAll('.chips .chip.generated').length === 1);
    await page.selectOption('select[aria-label="How Step picks a token"]', 'greedy');
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
  });

  await t.test('beam search draws a tree and ranks the finished hypotheses', async () => {
    await typePrompt('The theory of relativity is');
    await page.click('#tab-beam');
    await page.fill('#beam-num', '3');
    await page.fill('#beam-max-new', '5');
    await page.click('#beam-run');
    await page.waitForSelector('ol.hypotheses li');
    const want = await api<GenerateResponse>('/api/generate', { text: 'The theory of relativity is', num_beams: 3, num_return_sequences: 3, max_new_tokens: 5, length_penalty: 1, early_stopping: false });
    const items = await page.locator('ol.hypotheses li').allTextContents();
    assert.equal(items.length, 3);
    items.forEach((text, i) => assert.equal(text, `${fixed2(want.sequences[i]!.score)} ${want.sequences[i]!.text}`));
    assert.ok((await page.locator('.beam-tree .node.alive').count()) >= 3);
    assert.ok((await page.locator('.beam-tree .node.pruned').count()) > 0, 'pruned candidates are drawn');
    assert.equal(await page.locator('.beam-tree .node.finished').count(), 3);
    assert.deepEqual((await page.locator('.beam-tree .node.finished .rank').allTextContents()).sort(), ['1', '2', '3']);
    await shot('beam-search', true);
  });

  await t.test('attention: a heatmap per layer and head, and lines from the hovered token', async () => {
    await page.click('#tab-attention');
    await page.waitForSelector('.heatmap rect');
    const T = 5;
    assert.equal(await page.locator('.heatmap rect').count(), (T * (T + 1)) / 2, 'the causal triangle');
    await page.locator('.lines .tok.from').nth(4).hover();
    await page.waitForFunction(() => document.querySelectorAll('.lines line').length > 0);
    await page.getByRole('radio', { name: 'head 2' }).click();
    assert.equal(await page.locator('.head.on .head-n').textContent(), '2');
    assert.equal(await page.locator('.heads canvas').count(), 4, 'a thumbnail per head');
    await page.selectOption('#attn-layer', '1');
    await page.waitForSelector('.heatmap rect');
    await page.locator('.lines .tok.from').nth(4).hover();
    await shot('attention');
  });

  await t.test('logit lens: the top token each layer predicts at each position', async () => {
    await page.click('#tab-lens');
    await page.waitForSelector('.lens-table tbody tr');
    assert.deepEqual(await page.locator('.lens-table tbody th').allTextContents(), ['embeddings', 'block 1', 'block 2 (output)']);
    const golden = readGolden<{ cases: { text: string; logits_summary: { argmax: number[] } }[] }>('golden-forward.json').cases[0]!;
    const finalRow = await page.locator('.lens-table tbody tr.final .lens-token').allTextContents();
    assert.deepEqual(finalRow, golden.logits_summary.argmax.map((id) => visible(tokenizer.decode([id]))));
    await shot('logit-lens');
  });

  await t.test('compare: greedy, beam search and sampling side by side', async () => {
    await page.click('#tab-compare');
    await page.fill('#compare-max-new', '12');
    await page.fill('#compare-seed', '2');
    await page.click('#compare-run');
    await page.waitForFunction(() => document.querySelectorAll('.compare-text').length === 3);
    const greedy = await api<GenerateResponse>('/api/generate', { text: 'The theory of relativity is', max_new_tokens: 12 });
    assert.equal(await page.locator('.compare-col').first().locator('.compare-text .prompt-part').textContent(), 'The theory of relativity is');
    assert.equal(
      (await page.locator('.compare-col').first().locator('.new-part').textContent()) ?? '',
      greedy.sequences[0]!.text.slice('The theory of relativity is'.length),
    );
    const sampled = await api<GenerateResponse>('/api/generate', { text: 'The theory of relativity is', max_new_tokens: 12, do_sample: true, top_k: 0, seed: 2 });
    assert.equal(
      (await page.locator('.compare-col').nth(2).locator('.new-part').textContent()) ?? '',
      sampled.sequences[0]!.text.slice('The theory of relativity is'.length),
      'the sampling column is seeded: the same seed gives the same text',
    );
    await shot('compare');
  });

  await t.test('tabs work from the keyboard', async () => {
    await page.focus('#tab-compare');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('#tab-next', 'aria-selected'), 'true');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getAttribute('#tab-compare', 'aria-selected'), 'true');
  });

  await t.test('readable at phone width: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('#tab-next');
    await page.waitForSelector('.rows .row');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scrolling');
    await shot('phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('random weights get a banner', async () => {
    const { url: randomUrl } = await randomServer.listen(0);
    const p = await context.newPage();
    p.on('request', (r) => requests.push(r.url()));
    await p.goto(randomUrl);
    await p.waitForSelector('#random-banner');
    assert.match(await p.textContent('#random-banner') ?? '', /weights are random \(random:64x2x4@1\)/);
    await p.close();
  });

  await t.test('no request left the server, and the page raised no error', async () => {
    const origins = new Set(requests.map((r) => new URL(r).origin));
    for (const o of origins) assert.match(o, /^http:\/\/127\.0\.0\.1:\d+$/, `a request went to ${o}`);
    assert.ok(requests.some((r) => r.includes('/assets/')));
    assert.deepEqual(pageErrors, []);
  });
});
