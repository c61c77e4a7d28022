// Measures the static site in headless Chromium: first-load time (until <body data-ready="true">) and the tab's
// peak memory (the renderer process's peak RSS, VmHWM in /proc; the page's workers and the engine's WebAssembly
// memory live in it), for each model given. Needs a built site/ (npm run build:site) and /usr/bin/chromium.
//
//   npx tsx scripts/measure-site.ts random:gpt2 org/gpt2-tiny        (org/gpt2-tiny: the fixture, from a fake Hub)
//   npx tsx scripts/measure-site.ts org/gpt2-124m                    (random:gpt2 saved with savePretrained: GPT-2
//                                                                     124M's shapes, 498 MB fp32, from the fake Hub)
// The first load of a Hub model downloads it (and keeps it in the Cache API); the reload reads it from the cache.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { REPO_ROOT } from '../test/helpers/fixtures.js';
import { FakeHub, gpt2TinyRepo, type FakeRepo } from '../test/helpers/hub-server.js';
import { GPT2LMHeadModel, savePretrained } from '../src/node/index.js';
import { serveFolder } from '../test/helpers/static-server.js';

/** The renderer processes under the browser whose command line mentions `profile`. */
function rendererPids(profile: string): number[] {
  const procs = new Map<number, { ppid: number; cmd: string }>();
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const ppid = Number(/PPid:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
      procs.set(Number(pid), { ppid, cmd });
    } catch {
      // the process ended
    }
  }
  const browsers = new Set([...procs].filter(([, p]) => p.cmd.includes(profile) && !p.cmd.includes('--type=')).map(([pid]) => pid));
  const under = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid, hops = 0; p && hops < 8; p = procs.get(p)?.ppid, hops++) if (browsers.has(p)) return true;
    return false;
  };
  return [...procs].filter(([pid, p]) => p.cmd.includes('--type=renderer') && under(pid)).map(([pid]) => pid);
}

/** Peak RSS (VmHWM, bytes) of those renderer processes. */
function rendererPeaks(profile: string): number[] {
  const out: number[] = [];
  for (const pid of rendererPids(profile)) {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
      if (m) out.push(Number(m[1]) * 1024);
    } catch {
      // the process ended
    }
  }
  return out;
}

/** Current RSS (VmRSS, bytes) of one process, 0 when it ended. */
function rss(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) * 1024;
  } catch {
    return 0;
  }
}

/**
 * Samples each renderer's RSS every 250 ms until stopped, and marks when the page created its explorer worker: a
 * renderer's highest RSS before the worker started (the download) and after it (the engine filling) tell where
 * its peak is. Returns, for the renderer with the highest RSS, those two peaks and its RSS as the worker started.
 */
function timeline(profile: string, page: import('playwright-core').Page): () => { beforeWorker: number; atWorker: number; afterWorker: number } {
  let workerAt: number | null = null;
  const at = new Map<number, number>();
  const before = new Map<number, number>();
  const after = new Map<number, number>();
  const sample = (into: Map<number, number>): void => {
    for (const pid of rendererPids(profile)) into.set(pid, Math.max(into.get(pid) ?? 0, rss(pid)));
  };
  page.on('worker', (w) => {
    if (workerAt === null && /worker/.test(w.url())) {
      workerAt = Date.now();
      sample(at);
    }
  });
  const timer = setInterval(() => sample(workerAt === null ? before : after), 250);
  return () => {
    clearInterval(timer);
    const top = [...after].sort((a, b) => b[1] - a[1])[0]?.[0] ?? -1;
    return { beforeWorker: before.get(top) ?? 0, atWorker: at.get(top) ?? 0, afterWorker: after.get(top) ?? 0 };
  };
}

const models = process.argv.slice(2);
const site = await serveFolder(join(REPO_ROOT, 'site'));
const repos: Record<string, FakeRepo> = { 'org/gpt2-tiny': gpt2TinyRepo() };
if (models.includes('org/gpt2-124m')) {
  // GPT-2 124M's shapes with random weights, as a Hub repo: config, GPT-2's tokenizer files, model.safetensors (LFS)
  const dir = mkdtempSync(join(tmpdir(), 'gpt2-lens-124m-'));
  savePretrained(await GPT2LMHeadModel.from_pretrained('random:gpt2'), dir);
  const files: Record<string, Uint8Array> = {};
  for (const f of readdirSync(dir)) files[f] = readFileSync(join(dir, f));
  for (const f of ['vocab.json', 'merges.txt']) files[f] = readFileSync(join(REPO_ROOT, 'assets', 'gpt2', f));
  rmSync(dir, { recursive: true, force: true });
  repos['org/gpt2-124m'] = { files, lfs: ['model.safetensors'] };
  console.log(`org/gpt2-124m: model.safetensors ${(files['model.safetensors']!.byteLength / 2 ** 20).toFixed(1)} MiB`);
}
const weightBytes = (model: string): number => repos[model]?.files['model.safetensors']?.byteLength ?? 0;
const hub = await new FakeHub({ repos }).start();
for (const model of models.length ? models : ['random:gpt2', 'org/gpt2-tiny']) {
  for (const dtype of ['fp32']) {
    const profile = mkdtempSync(join(tmpdir(), 'gpt2-lens-measure-'));
    const context = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const page = await context.newPage();
    const url = `${site.url}/?model=${encodeURIComponent(model)}&endpoint=${encodeURIComponent(hub.url)}`;
    // first visit: the service worker installs and reloads once; the time counts from the first navigation
    const firstTimeline = timeline(profile, page);
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
    const first = Date.now() - t0;
    const loaded = await page.textContent('#model-loaded');
    const firstPeaks = rendererPeaks(profile);
    const firstSampled = firstTimeline();
    const t1 = Date.now();
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
    const again = Date.now() - t1;
    const peaks = rendererPeaks(profile);
    const mib = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MiB`;
    const w = weightBytes(model);
    const ratio = (b: number): string => (w ? ` (${(b / w).toFixed(2)} × the weights)` : '');
    // VmHWM is the process's peak since it started: after the first load, then after the reload (same renderer
    // when the reload stays in it; a new renderer's peak is its own)
    console.log(`${model} (${dtype}): first load ${first} ms, reload ${again} ms`);
    console.log(`  renderer peak RSS after the first load: ${firstPeaks.map((b) => mib(b) + ratio(b)).join(', ')}; after the reload: ${peaks.map((b) => mib(b) + ratio(b)).join(', ')}`);
    console.log(`  first load, sampled every 250 ms: the largest renderer's RSS peaked at ${mib(firstSampled.beforeWorker)} before the explorer worker started (the download), ${mib(firstSampled.atWorker)} as it started, ${mib(firstSampled.afterWorker)} after`);
    console.log(`  ${loaded}`);
    await context.close();
    // a later visit in a fresh browser on the same profile (the Cache API keeps the files): a renderer of its own,
    // so its peak is the visit's alone, without what the previous page in the same renderer left behind
    const again2 = await chromium.launchPersistentContext(profile, {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu'],
    });
    const page2 = await again2.newPage();
    const t2 = Date.now();
    await page2.goto(url);
    await page2.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
    const visit = Date.now() - t2;
    const visitPeaks = rendererPeaks(profile);
    console.log(`  a new visit in a fresh browser (from the cache): ${visit} ms, renderer peak RSS: ${visitPeaks.map((b) => mib(b) + ratio(b)).join(', ')}`);
    await again2.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
await hub.stop();
await site.close();
