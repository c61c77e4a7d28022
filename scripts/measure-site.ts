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

/** Peak RSS (VmHWM, bytes) of the renderer processes under the browser whose command line mentions `profile`. */
function rendererPeaks(profile: string): number[] {
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
  const out: number[] = [];
  for (const [pid, p] of procs) {
    if (!p.cmd.includes('--type=renderer') || !under(pid)) continue;
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    if (m) out.push(Number(m[1]) * 1024);
  }
  return out;
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
    const t0 = Date.now();
    await page.goto(url);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 300_000 });
    const first = Date.now() - t0;
    const loaded = await page.textContent('#model-loaded');
    const firstPeaks = rendererPeaks(profile);
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
    console.log(`  ${loaded}`);
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}
await hub.stop();
await site.close();
