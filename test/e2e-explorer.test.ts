// The explorer end to end, in a real headless Chromium (Debian's `chromium`, driven by playwright-core): the page is
// built with Vite, served by createServer on the fixture model, and used as a person would: type a prompt, read the
// chips and bars, move the knobs, step, run beam search, open attention and the logit lens, compare strategies.
// A screenshot of each view goes to docs/screenshots/ (or $GPT2_LENS_SCREENSHOTS).
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { AutoTokenizer } from '../src/node/tokenizer.js';
import type { GPT2Tokenizer } from '../src/tokenizer/index.js';
import { createServer, type ExplorerServer } from '../src/server/index.js';
import type { GenerateResponse, NextResponse } from '../src/server/types.js';
import { fixed2, hexBytes, percent, visible } from '../web/src/format.js';
import { launchChromium, postJson, SHOTS, type Chromium } from './helpers/browser.js';
import { FIXTURE_DIR, REPO_ROOT, readGolden } from './helpers/fixtures.js';

// GPT2_LENS_WEB_DIST: serve a page built elsewhere instead of building web/ (e.g. an older commit's web/, to check
// that these assertions fail on it); its failing waits then give up after 4 s instead of 20 s.
const OTHER_PAGE = process.env.GPT2_LENS_WEB_DIST;
const WEB_DIST = OTHER_PAGE ?? join(REPO_ROOT, 'web', 'dist');

let server: ExplorerServer;
let randomServer: ExplorerServer;
let url: string;
let tokenizer: GPT2Tokenizer;
let browser: Chromium;
let context: BrowserContext;
let page: Page;
const requests: string[] = [];
const pageErrors: string[] = [];

const api = <T>(path: string, body: unknown): Promise<T> => postJson<T>(url, path, body);

async function shot(name: string, fullPage = false): Promise<void> {
  // a still picture: no table waiting for an answer, the bars' 0.25 s transition over
  await page.waitForFunction(() => document.querySelector('.next-table')?.getAttribute('aria-busy') !== 'true');
  await page.waitForTimeout(400);
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage });
}

before(async () => {
  // Build the page from the current sources (a few seconds), so the test never runs against a stale web/dist.
  if (!OTHER_PAGE) await build({ root: join(REPO_ROOT, 'web'), logLevel: 'warn' });
  assert.ok(existsSync(join(WEB_DIST, 'index.html')));
  mkdirSync(SHOTS, { recursive: true });

  const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  tokenizer = await AutoTokenizer.from_pretrained(FIXTURE_DIR);
  server = createServer({ model, tokenizer, modelName: 'gpt2-tiny (test fixture)', webRoot: WEB_DIST });
  url = (await server.listen(0)).url;
  randomServer = createServer({ model: await GPT2LMHeadModel.from_pretrained('random:64x2x4@1'), tokenizer, webRoot: WEB_DIST });

  browser = await launchChromium({ width: 1280, height: 800 });
  context = browser.context;
  page = await context.newPage();
  page.setDefaultTimeout(OTHER_PAGE ? 4_000 : 20_000);
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => pageErrors.push(e.message));
});

after(async () => {
  await browser?.close();
  await server?.close();
  await randomServer?.close();
});

const chipTexts = (): Promise<string[]> => page.locator('.chips .chip').evaluateAll((els) => els.map((e) => e.textContent ?? ''));
const rowIds = (): Promise<number[]> => page.locator('.rows .row').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.id)));
const afterWidths = (): Promise<string[]> => page.locator('.rows .bar.after').evaluateAll((els) => els.map((e) => (e as HTMLElement).style.width));

/** Clicks `selector` and returns the file the page saved (playwright's download event). */
async function download(selector: string): Promise<{ name: string; bytes: Buffer }> {
  const [d] = await Promise.all([page.waitForEvent('download'), page.click(selector)]);
  return { name: d.suggestedFilename(), bytes: readFileSync((await d.path())!) };
}
const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

async function typePrompt(text: string): Promise<void> {
  await page.fill('#prompt', text);
  const ids = tokenizer.encode(text);
  await page.waitForFunction((n) => document.querySelectorAll('.chips .chip').length === n, ids.length);
}

test('the explorer, used as a person would, in headless Chromium', { timeout: OTHER_PAGE ? 600_000 : 180_000 }, async (t) => {
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
    const promptLength = tokenizer.encode('The theory of relativity is').length;
    // both scales, labelled: the beam score (sum ÷ length, length_penalty 1), the sum and the per-token mean
    items.forEach((text, i) => {
      const s = want.sequences[i]!;
      const n = s.ids.length - promptLength;
      assert.equal(text, `${fixed2(s.score)} (sum ${fixed2(s.score * n)}, per token ${fixed2(s.score)}) ${s.text}`);
    });
    assert.ok((await page.locator('.beam-tree .node.alive').count()) >= 3);
    assert.ok((await page.locator('.beam-tree .node.pruned').count()) > 0, 'pruned candidates are drawn');
    assert.equal(await page.locator('.beam-tree .node.finished').count(), 3);
    assert.deepEqual((await page.locator('.beam-tree .node.finished .rank').allTextContents()).sort(), ['1', '2', '3']);
    await shot('beam-search', true);
  });

  await t.test('the beam tree (4 beams × 20 tokens) opens fitted to its box, with greedy’s path drawn and where beam search leaves it', async () => {
    const prompt = 'The theory of relativity is';
    const promptIds = tokenizer.encode(prompt);
    await page.goto(`${url}?prompt=${encodeURIComponent(prompt)}&view=beam`);
    await page.waitForSelector('#beam-run:not([disabled])');
    await page.fill('#beam-num', '4');
    await page.fill('#beam-max-new', '20');
    await page.click('#beam-run');
    await page.waitForSelector('#beam-greedy-note');
    const box = (await page.locator('.tree-scroll').boundingBox())!;
    const inside = async (sel: string): Promise<number> => {
      const boxes = await page.locator(sel).evaluateAll((els) => els.map((e) => { const r = e.getBoundingClientRect(); return { x: r.x, y: r.y, w: r.width, h: r.height }; }));
      for (const b of boxes) {
        assert.ok(b.x >= box.x - 0.5 && b.y >= box.y - 0.5 && b.x + b.w <= box.x + box.width + 0.5 && b.y + b.h <= box.y + box.height + 0.5, `${sel} at ${JSON.stringify(b)} is outside the box ${JSON.stringify(box)}`);
      }
      return boxes.length;
    };
    assert.equal(await inside('.beam-tree .node.root circle'), 1, 'the root is in the visible box');
    assert.ok((await inside('.beam-tree .node[data-depth="20"] circle')) >= 4, 'the last column is in the visible box');
    const beam = await api<GenerateResponse>('/api/generate', { input_ids: promptIds, num_beams: 4, num_return_sequences: 4, max_new_tokens: 20, length_penalty: 1, early_stopping: false });
    const greedy = await api<GenerateResponse>('/api/generate', { input_ids: promptIds, max_new_tokens: 20 });
    const g = greedy.sequences[0]!.ids.slice(promptIds.length);
    const b = beam.sequences[0]!.ids.slice(promptIds.length);
    const drawn = await page.locator('.beam-tree .node[data-greedy="true"]').evaluateAll((els) => els.map((e) => [Number((e as HTMLElement).dataset.depth), Number((e as HTMLElement).dataset.tokenId)]));
    assert.ok(drawn.length >= 1, 'greedy’s path is drawn');
    drawn.forEach(([depth, id], i) => assert.deepEqual([depth, id], [i + 1, g[i]], `greedy node ${i}`));
    assert.equal(await page.locator('.beam-tree .link[data-greedy="true"]').count(), drawn.length);
    let part = 0;
    while (part < g.length && g[part] === b[part]) part++;
    assert.ok(part < g.length, 'on this prompt beam search leaves greedy’s path');
    assert.equal(await page.getAttribute('#beam-greedy-note', 'data-part-step'), String(part + 1));
    const note = (await page.textContent('#beam-greedy-note')) ?? '';
    const greedySum = greedy.sequences[0]!.score;
    const beamSum = beam.sequences[0]!.score * b.length;
    assert.match(note, new RegExp(`leaves greedy's path at step ${part + 1}:`));
    assert.ok(note.includes(`greedy's path has sum ${fixed2(greedySum)}`), note);
    assert.ok(note.includes(`beam's chosen path ${fixed2(beamSum)}`), note);
    assert.ok(note.includes(`better by ${fixed2(beamSum - greedySum)}`), note);
    await shot('beam-search-20', true);
  });

  await t.test('export: every view as the API’s JSON, the beam tree and the attention heatmap as SVG and PNG', async () => {
    const prompt = 'The theory of relativity is';
    const input_ids = tokenizer.encode(prompt);
    // beam search (the run of the previous subtest): request, streamed events, the API's answer, greedy's path
    const beamFile = await download('#export-json');
    assert.equal(beamFile.name, 'gpt2-lens-beam.json');
    const beamJson = JSON.parse(beamFile.bytes.toString('utf8')) as { request: Record<string, unknown>; events: unknown[]; response: GenerateResponse; greedy: { ids: number[] } };
    assert.deepEqual(beamJson.response, await api<GenerateResponse>('/api/generate', beamJson.request));
    assert.equal(beamJson.request.num_beams, 4);
    assert.equal(beamJson.events.length, 20);
    assert.deepEqual(beamJson.greedy.ids, (await api<GenerateResponse>('/api/generate', { input_ids, max_new_tokens: 20 })).sequences[0]!.ids.slice(input_ids.length));
    const svg = await download('#export-svg');
    assert.equal(svg.name, 'gpt2-lens-beam.svg');
    const svgText = svg.bytes.toString('utf8');
    assert.match(svgText, /^<svg [^>]*xmlns="http:\/\/www\.w3\.org\/2000\/svg"/);
    assert.equal(svgText.match(/<svg [^>]*>/)![0].match(/xmlns=/g)!.length, 1, 'a well-formed file: one xmlns');
    assert.equal((svgText.match(/data-greedy="true"/g) ?? []).length, await page.locator('.beam-tree [data-greedy="true"]').count());
    const png = await download('#export-png');
    assert.equal(png.name, 'gpt2-lens-beam.png');
    assert.deepEqual(png.bytes.subarray(0, 8), PNG_SIGNATURE);
    assert.ok(png.bytes.readUInt32BE(16) > 1000, 'twice the tree’s natural width');
    // attention: the forward pass as the API answered it, and the heatmap
    await page.click('#tab-attention');
    await page.waitForSelector('.heatmap rect');
    const attn = JSON.parse((await download('#export-json')).bytes.toString('utf8')) as unknown;
    assert.deepEqual(attn, await api('/api/forward', { input_ids, attentions: true, lens: false }));
    const heat = (await download('#export-svg')).bytes.toString('utf8');
    assert.equal((heat.match(/<rect /g) ?? []).length, 1 + (input_ids.length * (input_ids.length + 1)) / 2, 'the background and the causal triangle');
    assert.deepEqual((await download('#export-png')).bytes.subarray(0, 8), PNG_SIGNATURE);
    // the logit lens and the next-token table: JSON only (they are HTML, not drawings)
    await page.click('#tab-lens');
    await page.waitForSelector('.lens-table tbody tr');
    assert.equal(await page.locator('#export-svg').count(), 0);
    assert.deepEqual(JSON.parse((await download('#export-json')).bytes.toString('utf8')), await api('/api/forward', { input_ids, attentions: false, lens: true, lens_top: 3 }));
    await page.click('#tab-next');
    await page.waitForFunction(() => document.querySelector('.next-table')?.getAttribute('aria-busy') === 'false');
    assert.deepEqual(JSON.parse((await download('#export-json')).bytes.toString('utf8')), await api('/api/next', { input_ids, top: 10 }));
    // Compare: each column's request and answer
    await page.click('#tab-compare');
    await page.fill('#compare-max-new', '4');
    await page.click('#compare-run');
    await page.waitForFunction(() => document.querySelectorAll('.compare-text').length === 3);
    const cmp = JSON.parse((await download('#export-json')).bytes.toString('utf8')) as { title: string; request: Record<string, unknown>; response: GenerateResponse }[];
    assert.equal(cmp.length, 3);
    for (const c of cmp) assert.deepEqual(c.response, await api<GenerateResponse>('/api/generate', c.request), c.title);
    // the walk: its forward pass with the captures, and step 5's /api/next answers
    await page.click('#tab-walk');
    await page.waitForSelector('[data-view="walk"] .walk[data-walk-ready="true"]');
    const walk = JSON.parse((await download('#export-json')).bytes.toString('utf8')) as { forward: { input_ids: number[]; captures: Record<string, unknown> } };
    assert.deepEqual(walk.forward.input_ids, input_ids);
    assert.ok(Object.keys(walk.forward.captures).length >= 10);
    assert.deepEqual(walk.forward, await api('/api/forward', { input_ids, attentions: false, lens: true, lens_top: 1, capture: Object.keys(walk.forward.captures) }));
    await page.click('#tab-beam');
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
    await page.focus('#tab-interventions');
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.getAttribute('#tab-next', 'aria-selected'), 'true');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getAttribute('#tab-interventions', 'aria-selected'), 'true');
    await page.keyboard.press('ArrowLeft');
    assert.equal(await page.getAttribute('#tab-walk', 'aria-selected'), 'true');
  });

  await t.test('readable at phone width: nothing wider than the screen', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.click('#tab-next');
    await page.waitForSelector('.rows .row');
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= 390), 'no horizontal scrolling');
    await shot('phone');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('at 390 px: attention percentages inside the screen, knobs in reach of the bars, lens labels kept, chip details by tap', async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    const prompt = 'The theory of relativity is';
    await page.goto(`${url}?prompt=${encodeURIComponent(prompt)}&view=next`);
    await page.waitForFunction(() => document.querySelector('.next-table')?.getAttribute('aria-busy') === 'false');
    const inViewport = (sel: string): Promise<{ n: number; out: string[] }> =>
      page.locator(sel).evaluateAll((els) => {
        const out: string[] = [];
        for (const e of els) {
          const r = e.getBoundingClientRect();
          if (r.left < -0.5 || r.top < -0.5 || r.right > window.innerWidth + 0.5 || r.bottom > window.innerHeight + 0.5) out.push(`${e.textContent}: ${r.left},${r.top},${r.right},${r.bottom}`);
        }
        return { n: els.length, out };
      });
    // the knobs stay on screen while the bars are: scroll the last row into view, then both are there
    const lastBar = page.locator('.rows .row').last().locator('.bar.after');
    await lastBar.scrollIntoViewIfNeeded();
    const bar = await lastBar.evaluate((e) => { const r = e.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight; });
    assert.ok(bar, 'the last bar is on screen');
    const knobsBox = await page.locator('.next-view .knobs').evaluate((e) => { const r = e.getBoundingClientRect(); return { top: r.top, bottom: r.bottom, h: window.innerHeight }; });
    assert.ok(knobsBox.top >= 0 && knobsBox.top < knobsBox.h - 40, `the knobs are on screen with the bars: ${JSON.stringify(knobsBox)}`);
    assert.ok(await page.locator('#knob-temperature').isVisible());
    // details without hover: focusing and tapping a chip (no mouse over it) opens its id and bytes
    const chip = page.locator('.chips .chip').nth(1);
    await chip.focus();
    await chip.dispatchEvent('click');
    const toks = (await api<{ tokens: { id: number; bytes: number[] }[] }>('/api/tokenize', { text: prompt })).tokens;
    assert.equal(await page.locator('.chips .chip').nth(1).locator('.popover').textContent(), `id ${toks[1]!.id} · bytes ${hexBytes(toks[1]!.bytes)}`);
    // attention lines: after a tap on the last token, every label and percentage lies inside the screen
    await page.click('#tab-attention');
    await page.waitForSelector('.lines .tok.from');
    await page.locator('.lines .tok.from').last().dispatchEvent('click');
    await page.waitForFunction(() => document.querySelectorAll('.lines line').length > 0);
    await page.locator('.lines').scrollIntoViewIfNeeded();
    const pct = await inViewport('.lines .tok.to');
    assert.equal(pct.n, 5);
    assert.deepEqual(pct.out, [], 'no percentage clipped at the right edge');
    assert.ok((await page.locator('.lines .tok.to').allTextContents()).some((x) => /%$/.test(x)));
    // the logit lens scrolled sideways keeps its row labels in its box
    await page.click('#tab-lens');
    await page.waitForSelector('.lens-table tbody th');
    const scrolled = await page.locator('.lens-scroll').evaluate((e) => { e.scrollLeft = e.scrollWidth; return e.scrollLeft; });
    assert.ok(scrolled > 0, 'the lens is wider than the phone: it scrolls');
    await page.waitForTimeout(100);
    const labels = await page.locator('.lens-table tbody th').evaluateAll((els) => {
      const box = els[0]!.closest('.lens-scroll')!.getBoundingClientRect();
      return els.map((e) => { const r = e.getBoundingClientRect(); return r.left >= box.left - 0.5 && r.right <= box.right + 0.5 && r.width > 0; });
    });
    assert.deepEqual(labels, [true, true, true], 'every row label is inside the scrolled box');
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('random weights get a banner', async () => {
    const { url: randomUrl } = await randomServer.listen(0);
    const p = await context.newPage();
    p.on('request', (r) => requests.push(r.url()));
    await p.goto(randomUrl);
    await p.waitForSelector('#random-banner');
    assert.match(await p.textContent('#random-banner') ?? '', /weights are random \(random:64x2x4@1\)/);
    // the signal is the model's is_random (a random: spec), which /api/model reports as `random`
    assert.equal((await (await fetch(new URL('/api/model', randomUrl))).json() as { random: boolean }).random, true);
    assert.equal((await (await fetch(new URL('/api/model', url))).json() as { random: boolean }).random, false, 'a folder cannot be told apart: the fixture folder reports false');
    await p.close();
  });

  await t.test('never a wrong or stale number: a rejected prompt greys every result, keeps its error on every tab, and stops Step', async () => {
    await page.click('#tab-next');
    await typePrompt('The theory of relativity is');
    const long = 'a '.repeat(600);
    await page.fill('#prompt', long);
    await page.waitForSelector('#prompt-error');
    assert.match(await page.textContent('#prompt-error') ?? '', /above this server's limit of 512 \(GPT-2 itself reads at most 1024 tokens\)/);
    assert.equal(await page.getAttribute('#results', 'data-stale'), 'true');
    assert.equal(await page.getAttribute('#chips-box', 'data-stale'), 'true');
    assert.equal(await page.isDisabled('#step'), true);
    assert.equal(await page.isDisabled('#auto'), true);
    await page.click('#tab-attention');
    assert.equal(await page.isVisible('#prompt-error'), true, 'the error stays on the Attention tab');
    await page.click('#tab-next');
    await typePrompt('The theory of relativity is');
    await page.waitForSelector('#prompt-error', { state: 'detached' });
    assert.equal(await page.getAttribute('#results', 'data-stale'), 'false');
  });

  await t.test('never a wrong number: every row shows the processed probability the API reports, raw and after on every row, absolute bars', async () => {
    // " Unsure" is in the prompt and in the raw top 10; penalised, it falls out of the processed top 10 (0.0066%, not 0%)
    const text = 'The theory of relativity is healing crochetustain Trojan Wikileaks debate leading Unsure';
    await typePrompt(text);
    await page.fill('#knob-repetition_penalty-exact', '2');
    await page.waitForFunction(() => document.querySelector('#knob-repetition_penalty-value')?.textContent === '2.00');
    await page.waitForFunction(() => document.querySelector('.next-table')?.getAttribute('aria-busy') === 'false');
    const rows = await page.locator('.rows .row').evaluateAll((els) => els.map((e) => ({ id: Number((e as HTMLElement).dataset.tokenId), prob: Number((e as HTMLElement).dataset.prob), raw: Number((e as HTMLElement).dataset.rawProb), width: ((e as HTMLElement).querySelector('.bar.after') as HTMLElement).style.width })));
    const want = await api<NextResponse>('/api/next', { text, top: 10, repetition_penalty: 2, ids: rows.map((r) => r.id) });
    let nonZeroOutsideProcessed = 0;
    for (const r of rows) {
      const rep = want.reported.find((x) => x.id === r.id)!;
      assert.equal(r.prob, rep.prob, `processed probability of ${r.id}`);
      assert.equal(r.raw, rep.raw_prob);
      assert.ok(Math.abs(parseFloat(r.width) - Math.min(100, rep.prob * 100)) < 1e-3, `the bar is on an absolute scale: ${r.width} for p = ${rep.prob}`);
      if (rep.prob > 0 && !want.processed.some((x) => x.id === r.id)) nonZeroOutsideProcessed++;
    }
    assert.ok(nonZeroOutsideProcessed > 0, 'a penalised token outside the processed top still shows its real probability, not 0%');
    assert.equal(await page.locator('.rows .row .was').count(), rows.length, '"(raw x%)" on every row');
    assert.deepEqual(await page.locator('.rows .row-logit').allTextContents(), rows.map((r) => fixed2(want.reported.find((x) => x.id === r.id)!.logit)));
    await page.fill('#knob-repetition_penalty-exact', '1');
    // top-p: a marker where it cuts
    await page.fill('#knob-top_p-exact', '0.3');
    await page.waitForSelector('.rows li[data-cut="top_p"]');
    // a value out of the API's range is sent, and the API's error shows under the field
    await page.fill('#knob-top_p-exact', '1.5');
    await page.waitForSelector('#knob-top_p-error');
    assert.equal(await page.textContent('#knob-top_p-error'), '"top_p" must be <= 1, got 1.5');
    await page.getByRole('button', { name: 'Reset knobs' }).click();
  });

  await t.test('the chip row is one tab stop; legends say the colour scales; views keep their state across tabs', async () => {
    assert.equal(await page.locator('.chips .chip[tabindex="0"]').count(), 1);
    await page.locator('.chips .chip').first().focus();
    await page.keyboard.press('ArrowRight');
    assert.equal(await page.evaluate(() => [...document.querySelectorAll('.chips .chip')].indexOf(document.activeElement as Element)), 1);
    await page.click('#tab-attention');
    await page.waitForSelector('#attn-legend');
    assert.equal(await page.getAttribute('#attn-legend', 'data-scale'), 'sqrt');
    await page.selectOption('#attn-layer', '1');
    await page.getByRole('radio', { name: 'head 3' }).click();
    await page.click('#tab-beam');
    await page.click('#tab-attention');
    assert.equal(await page.inputValue('#attn-layer'), '1', 'the chosen layer is kept');
    assert.equal(await page.getAttribute('[role=radio][aria-label="head 3"]', 'aria-checked'), 'true', 'the chosen head is kept');
    await page.click('#tab-lens');
    await page.waitForSelector('#lens-legend');
    assert.equal(await page.getAttribute('#lens-legend', 'data-scale'), 'linear');
    assert.equal(await page.getAttribute('#beam-max-new', 'max'), '256', "the beam field allows the server's limit");
    assert.equal(await page.getAttribute('#compare-seed', 'min'), '0');
  });

  await t.test('the logit lens over the forward limit says so instead of "Computing…"', async () => {
    const text = 'the cat '.repeat(70); // 140 tokens: above max_forward_tokens (128), under max_prompt_tokens
    await page.fill('#prompt', text);
    await page.waitForFunction(() => document.querySelector('#panel-lens .view-status')?.textContent?.includes('limited to 128 tokens'));
    assert.doesNotMatch(await page.textContent('#panel-lens .view-status') ?? '', /Computing/);
    await typePrompt('The theory of relativity is');
  });

  await t.test('How GPT-2 computed this: every step renders with the real numbers, at 1280 and 390 px', async () => {
    const g = readGolden<{ cases: { text: string; input_ids: number[]; hidden_states: number[][][]; attentions: number[][][][] }[] }>('golden-forward.json').cases[0]!;
    assert.equal(g.text, 'The theory of relativity is');
    const caps = await api<{ captures: Record<string, { dims: number[]; data: number[] }> }>('/api/forward', { text: g.text, attentions: false, lens: false, capture: ['blocks.0.ln1.hook_normalized', 'blocks.0.attn.hook_q', 'blocks.0.mlp.hook_pre'] });
    const T = g.input_ids.length;
    const p = T - 1;
    const cells = (name: string): Promise<number[]> => page.locator(`[data-name="${name}"] .walk-cell`).evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.value)));
    const close = (what: string, got: number[], want: number[]): void => {
      assert.equal(got.length, want.length, what);
      got.forEach((x, i) => assert.ok(Math.abs(x - want[i]!) <= 1e-5 + 1e-4 * Math.abs(want[i]!), `${what}[${i}]: ${x} vs ${want[i]}`));
    };
    for (const width of [1280, 390]) {
      await page.setViewportSize({ width, height: 900 });
      await page.click('#tab-walk');
      await page.waitForSelector('[data-view="walk"] .walk[data-walk-ready="true"]');
      while (!(await page.isDisabled('#walk-back'))) await page.click('#walk-back');
      // step 1: x0 = wte + wpe = HF's hidden_states[0]
      await page.waitForSelector('[data-walk-step="1"]');
      close('x0', await cells('blocks.0.hook_resid_pre'), g.hidden_states[0]![p]!.slice(0, 8));
      // each token with its id and its bytes (hex), as /api/tokenize gives them
      const toks: { id: number; bytes: number[] }[] = (await api<{ tokens: { id: number; bytes: number[] }[] }>('/api/tokenize', { text: g.text })).tokens;
      assert.deepEqual(
        await page.locator('[data-walk-step="1"] [data-walk-token]').evaluateAll((els) => els.map((e) => [Number((e as HTMLElement).dataset.tokenId), e.querySelector('.walk-bytes')?.textContent])),
        toks.map((tok) => [tok.id, hexBytes(tok.bytes)]),
      );
      assert.ok(await page.locator('[data-walk-step="1"] .walk-formula').isVisible());
      await page.click('#walk-next');
      // step 2: the pattern row = HF's attentions[0][0][p]; q and ln_1 = the reference path's captures
      await page.waitForSelector('[data-walk-step="2"]');
      close('pattern', await cells('blocks.0.attn.hook_pattern'), g.attentions[0]![0]![p]!.slice(0, p + 1));
      close('ln_1', await cells('blocks.0.ln1.hook_normalized'), caps.captures['blocks.0.ln1.hook_normalized']!.data.slice(p * 64, p * 64 + 8));
      close('q', await cells('blocks.0.attn.hook_q'), caps.captures['blocks.0.attn.hook_q']!.data.slice(p * 64, p * 64 + 8));
      await page.keyboard.press('ArrowRight'); // the keyboard works too
      await page.waitForSelector('[data-walk-step="3"]');
      close('block 0 output', await cells('blocks.0.hook_resid_post'), g.hidden_states[1]![p]!.slice(0, 8));
      close('c_fc', await cells('blocks.0.mlp.hook_pre'), caps.captures['blocks.0.mlp.hook_pre']!.data.slice(p * 256, p * 256 + 8));
      await page.click('#walk-next');
      await page.waitForSelector('[data-walk-step="4"]');
      assert.equal(await page.locator('.walk-blocks tbody tr').count(), 2);
      await page.click('#walk-next');
      await page.waitForSelector('[data-walk-step="5"]');
      close('ln_f', await cells('ln_final.hook_normalized'), g.hidden_states[2]![p]!.slice(0, 8));
      await page.waitForSelector('.walk-knobs tbody tr');
      const want5: NextResponse = await api<NextResponse>('/api/next', { text: g.text, top: 5 });
      const logits = await page.locator('.walk-knobs [data-walk-logit]').evaluateAll((els) => els.map((e) => Number((e as HTMLElement).dataset.walkLogit)));
      assert.deepEqual(logits, want5.top.map((t) => t.logit));
      assert.equal(Number(await page.getAttribute('.walk-pick', 'data-token-id')), want5.processed[0]!.id);
      assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth + 1), `no horizontal scrolling at ${width} px`);
      if (width === 1280) await shot('walk');
      else await shot('walk-phone');
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.click('#tab-next');
  });

  await t.test('the address carries the state: prompt, view and knobs restore from it and follow the page', async () => {
    const p = await context.newPage();
    p.on('request', (r) => requests.push(r.url()));
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(`${url}?prompt=${encodeURIComponent('Hello world')}&top_k=4&view=lens&model=ignored`);
    await p.waitForSelector('#lens-legend');
    assert.equal(await p.inputValue('#prompt'), 'Hello world');
    assert.equal(await p.getAttribute('#tab-lens', 'aria-selected'), 'true');
    assert.equal(await p.textContent('#knob-top_k-value'), '4');
    await p.click('#tab-next');
    await p.locator('#knob-temperature').fill('2');
    await p.waitForFunction(() => new URLSearchParams(location.search).get('temperature') === '2');
    const q = new URLSearchParams(new URL(p.url()).search);
    assert.deepEqual([q.get('prompt'), q.get('view'), q.get('top_k'), q.get('model')], ['Hello world', 'next', '4', 'ignored']);
    await p.close();
  });

  await t.test('the address carries num_beams, max_new_tokens, seed and do_sample into Beam search, Compare and Step, and follows them', async () => {
    const p = await context.newPage();
    p.on('request', (r) => requests.push(r.url()));
    p.on('pageerror', (e) => pageErrors.push(e.message));
    await p.goto(`${url}?prompt=${encodeURIComponent('Hello world')}&view=compare&num_beams=5&max_new_tokens=7&seed=3&do_sample=true`);
    await p.waitForSelector('#compare-run');
    assert.deepEqual([await p.inputValue('#compare-beams'), await p.inputValue('#compare-max-new'), await p.inputValue('#compare-seed')], ['5', '7', '3']);
    await p.click('#tab-beam');
    assert.deepEqual([await p.inputValue('#beam-num'), await p.inputValue('#beam-max-new')], ['5', '7']);
    await p.click('#tab-next');
    assert.equal(await p.inputValue('select[aria-label="How Step picks a token"]'), 'sample');
    await p.click('#tab-beam');
    await p.fill('#beam-num', '2');
    await p.waitForFunction(() => new URLSearchParams(location.search).get('num_beams') === '2');
    await p.click('#tab-compare');
    await p.fill('#compare-seed', '11');
    await p.waitForFunction(() => new URLSearchParams(location.search).get('seed') === '11');
    assert.equal(await p.inputValue('#compare-beams'), '2', 'one num_beams for both views');
    const q = new URLSearchParams(new URL(p.url()).search);
    assert.deepEqual([q.get('num_beams'), q.get('max_new_tokens'), q.get('seed'), q.get('do_sample'), q.get('view')], ['2', '7', '11', 'true', 'compare']);
    await p.close();
  });

  await t.test('no request left the server, and the page raised no error', async () => {
    const origins = new Set(requests.map((r) => new URL(r).origin));
    for (const o of origins) assert.match(o, /^http:\/\/127\.0\.0\.1:\d+$/, `a request went to ${o}`);
    assert.ok(requests.some((r) => r.includes('/assets/')));
    assert.deepEqual(pageErrors, []);
  });
});

test('"What if" in step mode: forced branches score with /api/next\'s numbers, and a reload restores them', { timeout: 120_000 }, async () => {
  const p = await context.newPage();
  p.setDefaultTimeout(20_000);
  const errors: string[] = [];
  p.on('pageerror', (e) => errors.push(e.message));
  const prompt = 'The theory of relativity is';
  const ids = tokenizer.encode(prompt);
  const FOLLOW = 3; // WhatIf.tsx's WHATIF_FOLLOW
  // what a branch must show, from the API itself: the forced token's raw_prob, then FOLLOW greedy tokens' top[0].prob
  const expected = async (forced: number): Promise<number[]> => {
    const first = await api<NextResponse>('/api/next', { input_ids: ids, top: 1, ids: [forced] });
    const probs = [first.reported.find((r) => r.id === forced)!.raw_prob];
    const ctx = [...ids, forced];
    for (let k = 0; k < FOLLOW; k++) {
      const n = await api<NextResponse>('/api/next', { input_ids: ctx, top: 1 });
      probs.push(n.top[0]!.prob);
      ctx.push(n.top[0]!.id);
    }
    return probs;
  };
  const branchNumbers = (): Promise<Array<{ id: number; probs: number[]; joint: number; mean: number }>> =>
    p.locator('[data-whatif-branches] [data-joint-logprob]').evaluateAll((els) =>
      els.map((e) => {
        const d = (e as HTMLElement).dataset;
        return { id: Number(d.branchId), probs: d.tokenProbs!.split(',').map(Number), joint: Number(d.jointLogprob), mean: Number(d.meanLogprob) };
      }),
    );
  try {
    await p.goto(`${url}?prompt=${encodeURIComponent(prompt)}&view=next`);
    await p.waitForSelector('[data-whatif-row]');
    // pick a row (the table's third) and type a token's id: two branches, side by side
    const table = await api<NextResponse>('/api/next', { input_ids: ids, top: 10 });
    const picked = table.top[2]!.id;
    await p.click(`[data-whatif-row="${picked}"]`);
    const typed = 1000; // most likely not in the table: its probability comes from `reported`
    await p.fill('[data-whatif-input]', String(typed));
    await p.click('[data-whatif-add]');
    await p.waitForFunction(() => document.querySelectorAll('[data-whatif-branches] [data-joint-logprob]').length === 2);
    const shown = await branchNumbers();
    assert.deepEqual(shown.map((b) => b.id), [picked, typed]);
    for (const b of shown) {
      const want = await expected(b.id);
      assert.deepEqual(b.probs, want, `branch ${b.id}: the tokens' probabilities are /api/next's`);
      const joint = want.reduce((s, x) => s + Math.log(x), 0);
      assert.equal(b.joint, joint);
      assert.equal(b.mean, joint / (FOLLOW + 1));
    }
    // typing text that is not one token is a clear error, and adds nothing
    await p.fill('[data-whatif-input]', ' relativity is');
    await p.click('[data-whatif-add]');
    assert.match((await p.textContent('[data-whatif-error]')) ?? '', /^" relativity is" is 2 tokens, not one/);
    // the URL keeps the branches; a reload restores them with the same numbers
    await p.waitForFunction((want) => new URLSearchParams(location.search).get('branches') === want, `${picked},${typed}`);
    await p.reload();
    await p.waitForFunction(() => document.querySelectorAll('[data-whatif-branches] [data-joint-logprob]').length === 2);
    assert.deepEqual(await branchNumbers(), shown);
    // removing one updates the URL
    await p.click('[data-branch="0"] [data-branch-remove]');
    await p.waitForFunction((want) => new URLSearchParams(location.search).get('branches') === want, String(typed));
    assert.deepEqual(errors, []);
  } finally {
    await p.close();
  }
});
