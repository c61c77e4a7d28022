// The HF cache shared with Python: a tree laid out by hand exactly as huggingface_hub writes it is found and used
// without the network; HF_HUB_CACHE / HF_HOME precedence; `cache ls` scanning; the download lock, between two
// calls in one process and between two processes.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, it } from 'node:test';
import { hfHubDownload, hubCacheDir, resolveModelFolder, scanCache } from '../src/node/hub/index.js';
import { FIXTURE_DIR, REPO_ROOT } from './helpers/fixtures.js';
import { FAKE_COMMIT, FakeHub, gitBlobSha1, sha256Hex } from './helpers/hub-server.js';
import { tempDirs } from './helpers/temp.js';
import { runTsx } from './helpers/cli.js';

const tmp = tempDirs('gpt2-lens-hub-cache-');

const FILES = ['config.json', 'generation_config.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors'];
const MODEL_SHA = sha256Hex(readFileSync(join(FIXTURE_DIR, 'model.safetensors')));
const PY_COMMIT = '607a30d783dfa663caf39e06633721c8d4cfcd7e';

/** What `huggingface_hub.snapshot_download('openai-community/gpt2')` leaves behind, built by hand. */
function handMadeCache(): string {
  const cache = tmp();
  const repo = join(cache, 'models--openai-community--gpt2');
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  mkdirSync(join(repo, 'snapshots', PY_COMMIT), { recursive: true });
  mkdirSync(join(repo, '.no_exist', PY_COMMIT), { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), PY_COMMIT); // no trailing newline, as Python writes it
  for (const f of FILES) {
    const bytes = readFileSync(join(FIXTURE_DIR, f));
    const etag = f === 'model.safetensors' ? sha256Hex(bytes) : gitBlobSha1(bytes);
    copyFileSync(join(FIXTURE_DIR, f), join(repo, 'blobs', etag));
    symlinkSync(`../../blobs/${etag}`, join(repo, 'snapshots', PY_COMMIT, f));
  }
  writeFileSync(join(repo, '.no_exist', PY_COMMIT, 'tokenizer.json'), '');
  return cache;
}

/** A fetch that fails the test if anything tries the network. */
const noNetwork = (() => {
  throw new Error('the network was used');
}) as unknown as typeof fetch;

describe('a cache laid out by huggingface_hub', () => {
  it('is found through HF_HUB_CACHE and used offline with no request', async () => {
    const cache = handMadeCache();
    const folder = await resolveModelFolder('openai-community/gpt2', { env: { HF_HUB_CACHE: cache, HF_HUB_OFFLINE: '1' }, fetch: noNetwork });
    assert.equal(folder, join(cache, 'models--openai-community--gpt2', 'snapshots', PY_COMMIT));
  });

  it('is found through HF_HOME/hub, and used when the Hub cannot be reached', async () => {
    const home = tmp();
    const cache = handMadeCache();
    symlinkSync(cache, join(home, 'hub'));
    const stopped = await new FakeHub().start();
    await stopped.stop(); // a port nobody listens on
    const folder = await resolveModelFolder('openai-community/gpt2', { env: { HF_HOME: home, HF_ENDPOINT: stopped.url } });
    assert.equal(folder, join(home, 'hub', 'models--openai-community--gpt2', 'snapshots', PY_COMMIT));
  });

  it('a commit revision already cached needs no request, even online', async () => {
    const cache = handMadeCache();
    const folder = await resolveModelFolder('openai-community/gpt2', { cache_dir: cache, env: {}, revision: PY_COMMIT, fetch: noNetwork });
    assert.equal(readFileSync(join(folder, 'config.json'), 'utf8'), readFileSync(join(FIXTURE_DIR, 'config.json'), 'utf8'));
  });

  it('is listed by scanCache with its ref, snapshot, files and size', () => {
    const cache = handMadeCache();
    const [repo, ...rest] = scanCache(cache);
    assert.deepEqual(rest, []);
    const expectedSize = FILES.reduce((s, f) => s + readFileSync(join(FIXTURE_DIR, f)).byteLength, 0);
    assert.equal(repo!.repoId, 'openai-community/gpt2');
    assert.equal(repo!.sizeOnDisk, expectedSize);
    assert.equal(repo!.blobs, FILES.length);
    assert.deepEqual(repo!.refs, { main: PY_COMMIT });
    assert.deepEqual(repo!.snapshots, [{ commit: PY_COMMIT, refs: ['main'], files: [...FILES].sort(), size: expectedSize }]);
    assert.deepEqual(scanCache(join(cache, 'absent')), []);
  });
});

describe('where the cache is', () => {
  it('HF_HUB_CACHE, else HUGGINGFACE_HUB_CACHE, else HF_HOME/hub, else XDG_CACHE_HOME/huggingface/hub, else ~/.cache/huggingface/hub', () => {
    assert.equal(hubCacheDir({ HF_HUB_CACHE: '/a', HUGGINGFACE_HUB_CACHE: '/l', HF_HOME: '/b', XDG_CACHE_HOME: '/x' }), '/a');
    assert.equal(hubCacheDir({ HUGGINGFACE_HUB_CACHE: '/l', HF_HOME: '/b' }), '/l');
    assert.equal(hubCacheDir({ HF_HOME: '/b', XDG_CACHE_HOME: '/x' }), join('/b', 'hub'));
    assert.equal(hubCacheDir({ XDG_CACHE_HOME: '/x' }), join('/x', 'huggingface', 'hub'));
    assert.equal(hubCacheDir({}), join(homedir(), '.cache', 'huggingface', 'hub'));
    assert.equal(hubCacheDir({ HF_HOME: '~/hf' }), join(homedir(), 'hf', 'hub'));
  });

  it('a download lands in HF_HUB_CACHE over HF_HOME, and in HF_HOME/hub without it', async () => {
    const hub = await new FakeHub().start();
    try {
      const home = tmp();
      const hubCache = tmp();
      await hfHubDownload('org/gpt2-tiny', 'config.json', { env: { HF_ENDPOINT: hub.url, HF_HOME: home, HF_HUB_CACHE: hubCache } });
      assert.ok(existsSync(join(hubCache, 'models--org--gpt2-tiny', 'snapshots', FAKE_COMMIT, 'config.json')));
      assert.equal(existsSync(join(home, 'hub')), false);
      await hfHubDownload('org/gpt2-tiny', 'config.json', { env: { HF_ENDPOINT: hub.url, HF_HOME: home } });
      assert.ok(existsSync(join(home, 'hub', 'models--org--gpt2-tiny', 'snapshots', FAKE_COMMIT, 'config.json')));
    } finally {
      await hub.stop();
    }
  });
});

describe('the download lock', () => {
  const lockFile = (cache: string) => join(cache, '.locks', 'models--org--gpt2-tiny', `${MODEL_SHA}.lock`);
  const blob = (cache: string) => join(cache, 'models--org--gpt2-tiny', 'blobs', MODEL_SHA);
  const sha = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

  it('two concurrent calls in one process download the blob once', async () => {
    const hub = await new FakeHub({ chunkBytes: 1 << 18, chunkDelayMs: 5 }).start();
    try {
      const cache = tmp();
      const o = { endpoint: hub.url, cache_dir: cache, env: {}, lock: { pollMs: 20 } };
      const [a, b] = await Promise.all([hfHubDownload('org/gpt2-tiny', 'model.safetensors', o), hfHubDownload('org/gpt2-tiny', 'model.safetensors', o)]);
      assert.equal(a.path, b.path);
      assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, 1);
      assert.equal(sha(blob(cache)), MODEL_SHA);
      assert.equal(existsSync(lockFile(cache)), false);
    } finally {
      await hub.stop();
    }
  });

  it('two processes downloading into one cache produce one correct blob, downloaded once', async () => {
    const hub = await new FakeHub({ chunkBytes: 1 << 18, chunkDelayMs: 15 }).start();
    try {
      const cache = tmp();
      const code =
        `import { resolveModelFolder } from ${JSON.stringify(pathToFileURL(join(REPO_ROOT, 'src/node/hub/index.ts')).href)};\n` +
        `process.stdout.write(await resolveModelFolder('org/gpt2-tiny', { quiet: true }));`;
      const env = { ...process.env, HF_ENDPOINT: hub.url, HF_HUB_CACHE: cache, HF_TOKEN: '', HF_HUB_OFFLINE: '' };
      const run = () => runTsx(['--input-type=module', '-e', code], env);
      const [a, b] = await Promise.all([run(), run()]);
      assert.equal(a.code, 0, a.stderr);
      assert.equal(b.code, 0, b.stderr);
      assert.equal(a.stdout, join(cache, 'models--org--gpt2-tiny', 'snapshots', FAKE_COMMIT));
      assert.equal(b.stdout, a.stdout);
      assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, 1);
      assert.equal(sha(join(a.stdout, 'model.safetensors')), MODEL_SHA);
      assert.deepEqual(readdirSync(join(cache, 'models--org--gpt2-tiny', 'blobs')).filter((f) => f.includes('.')), []);
      assert.deepEqual(readdirSync(join(cache, '.locks', 'models--org--gpt2-tiny')), []);
    } finally {
      await hub.stop();
    }
  });

  it('waits for a live holder, then reuses the blob it finished', async () => {
    const hub = await new FakeHub().start();
    try {
      const cache = tmp();
      mkdirSync(join(cache, '.locks', 'models--org--gpt2-tiny'), { recursive: true });
      writeFileSync(lockFile(cache), JSON.stringify({ pid: process.pid, host: hostname(), token: 'other', since: '' }));
      let waited = false;
      const pending = hfHubDownload('org/gpt2-tiny', 'model.safetensors', { endpoint: hub.url, cache_dir: cache, env: {}, lock: { pollMs: 20, onWait: () => (waited = true) } });
      for (let i = 0; i < 250 && !waited; i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(waited, true, 'the download waits for the lock');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, 0, 'nothing is downloaded while another process holds the lock');
      // the "other process" finishes: it writes the blob and releases the lock
      mkdirSync(join(cache, 'models--org--gpt2-tiny', 'blobs'), { recursive: true });
      copyFileSync(join(FIXTURE_DIR, 'model.safetensors'), blob(cache));
      rmSync(lockFile(cache));
      const got = await pending;
      assert.equal(sha(got.path), MODEL_SHA);
      assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, 0);
    } finally {
      await hub.stop();
    }
  });

  it('takes over a lock whose process is gone, or that nobody refreshed for too long', async () => {
    const hub = await new FakeHub().start();
    try {
      const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout.toString();
      const c1 = tmp();
      mkdirSync(join(c1, '.locks', 'models--org--gpt2-tiny'), { recursive: true });
      writeFileSync(lockFile(c1), JSON.stringify({ pid: Number(dead), host: hostname(), token: 'crashed', since: '' }));
      const a = await hfHubDownload('org/gpt2-tiny', 'model.safetensors', { endpoint: hub.url, cache_dir: c1, env: {} });
      assert.equal(sha(a.path), MODEL_SHA);
      assert.equal(existsSync(lockFile(c1)), false);

      const c2 = tmp();
      mkdirSync(join(c2, '.locks', 'models--org--gpt2-tiny'), { recursive: true });
      writeFileSync(lockFile(c2), JSON.stringify({ pid: 1, host: 'another-machine', token: 'old', since: '' }));
      const old = new Date(Date.now() - 120_000);
      utimesSync(lockFile(c2), old, old);
      const b = await hfHubDownload('org/gpt2-tiny', 'model.safetensors', { endpoint: hub.url, cache_dir: c2, env: {} });
      assert.equal(sha(b.path), MODEL_SHA);
    } finally {
      await hub.stop();
    }
  });
});
