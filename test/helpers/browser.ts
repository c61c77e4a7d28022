// The end-to-end tests' headless Chromium (Debian's, driven by playwright-core) and where their screenshots go.
// One place for the browser's path, its flags and the error a machine without it gets.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { REPO_ROOT } from './fixtures.js';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots the README and docs show (docs/screenshots), or $GPT2_LENS_SCREENSHOTS. */
export const SHOTS = process.env.GPT2_LENS_SCREENSHOTS ?? join(REPO_ROOT, 'docs', 'screenshots');

/** A persistent Chromium context in a fresh profile folder; `close()` ends it and deletes the profile. */
export interface Chromium {
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches headless Chromium with a fresh profile and the given window size (a clear error when it is missing). */
export async function launchChromium(viewport: { width: number; height: number }): Promise<Chromium> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: the end-to-end tests need it. Install it with \`apt-get install -y chromium\` (.ci/run does), or set CHROMIUM_PATH.`);
  }
  const profile = mkdtempSync(join(tmpdir(), 'gpt2-lens-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    viewport,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** POSTs `body` as JSON to `path` on `base` and returns the answer, asserting a 200. */
export async function postJson<T>(base: string, path: string, body: unknown): Promise<T> {
  const res = await fetch(new URL(path, base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  if (res.status !== 200) throw new Error(`POST ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as T;
}
