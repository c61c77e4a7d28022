// The Hub client against a real HTTP server on 127.0.0.1 (test/helpers/hub-server.ts) serving the gpt2-tiny
// fixture with the Hub's URL scheme, headers and LFS redirects: downloads, the cache layout, reuse, resume,
// checksums, retries.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { formatBytes, HubError, hfHubDownload, normalizeEtag, resolveModelFolder, terminalProgressBar, type PretrainedOptions } from '../src/node/hub/index.js';
import { renderProgressLine } from '../src/node/hub/progress.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import { FAKE_COMMIT, FAKE_TAG, FakeHub, gitBlobSha1, gpt2TinyRepo, sha256Hex, shardSafetensors } from './helpers/hub-server.js';
import { tempDirs } from './helpers/temp.js';

const MODEL_SHA = sha256Hex(readFileSync(join(FIXTURE_DIR, 'model.safetensors')));
const SMALL_FILES = ['config.json', 'generation_config.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json'];
const fast = { retry: { baseDelayMs: 5, maxDelayMs: 20 } };
const tmpCache = tempDirs('gpt2-lens-hub-');

function repoDir(cache: string): string {
  return join(cache, 'models--org--gpt2-tiny');
}

function sha256File(p: string): string {
  return createHash('sha256').update(readFileSync(p)).digest('hex');
}

/** No env from the machine running the tests (no real token, no real HF_HUB_OFFLINE). */
const cleanEnv = {};

describe('a fresh download', () => {
  let hub: FakeHub;
  let cache: string;
  let folder: string;
  before(async () => {
    hub = await new FakeHub().start();
    cache = tmpCache();
    folder = await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv, quiet: true });
  });
  after(() => hub.stop());

  it('returns the snapshot folder of the commit the Hub reported', () => {
    assert.equal(folder, join(repoDir(cache), 'snapshots', FAKE_COMMIT));
    assert.equal(readFileSync(join(repoDir(cache), 'refs', 'main'), 'utf8'), FAKE_COMMIT);
  });

  it('lays files out as huggingface_hub does: relative symlinks into blobs/<etag>', () => {
    for (const f of SMALL_FILES) {
      const p = join(folder, f);
      assert.ok(lstatSync(p).isSymbolicLink(), `${f} is a symlink`);
      const etag = gitBlobSha1(readFileSync(join(FIXTURE_DIR, f)));
      assert.equal(readlinkSync(p), `../../blobs/${etag}`);
      assert.deepEqual(readFileSync(p), readFileSync(join(FIXTURE_DIR, f)));
    }
    const model = join(folder, 'model.safetensors');
    assert.equal(readlinkSync(model), `../../blobs/${MODEL_SHA}`);
    assert.equal(sha256File(model), MODEL_SHA);
    assert.deepEqual(readdirSync(folder).sort(), [...SMALL_FILES, 'model.safetensors'].sort());
  });

  it('leaves no .incomplete file and no lock, and remembers that tokenizer.json does not exist', () => {
    assert.deepEqual(readdirSync(join(repoDir(cache), 'blobs')).filter((b) => b.includes('.')), []);
    assert.deepEqual(readdirSync(join(cache, '.locks', 'models--org--gpt2-tiny')), []);
    assert.ok(existsSync(join(repoDir(cache), '.no_exist', FAKE_COMMIT, 'tokenizer.json')));
  });

  it('pins every file after config.json to the commit, and gets the LFS file from the CDN redirect', () => {
    const paths = hub.requests.map((r) => `${r.method} ${r.path} ${r.status}`);
    assert.equal(paths[0], 'HEAD /org/gpt2-tiny/resolve/main/config.json 200');
    assert.ok(paths.includes(`HEAD /org/gpt2-tiny/resolve/${FAKE_COMMIT}/model.safetensors 302`));
    assert.ok(paths.includes(`GET /cdn/${MODEL_SHA} 200`));
    assert.equal(hub.requests.filter((r) => r.path.includes('/resolve/main/')).length, 1);
  });

  it('downloads nothing the second time (HEAD requests only)', async () => {
    const before = hub.requests.length;
    const again = await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv });
    assert.equal(again, folder);
    const newOnes = hub.requests.slice(before);
    assert.ok(newOnes.length > 0);
    assert.deepEqual(newOnes.filter((r) => r.method !== 'HEAD'), []);
  });

  it('a file download reports progress, ending at the full size', async () => {
    const seen: number[] = [];
    const c = tmpCache();
    await hfHubDownload('org/gpt2-tiny', 'model.safetensors', { endpoint: hub.url, cache_dir: c, env: cleanEnv, onProgress: (p) => seen.push(p.loaded) });
    assert.equal(seen.at(-1), 21919480);
    assert.ok(seen.length > 2);
  });
});

describe('reuse and offline', () => {
  let hub: FakeHub;
  let cache: string;
  let folder: string;
  before(async () => {
    hub = await new FakeHub().start();
    cache = tmpCache();
    folder = await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv });
  });
  after(() => hub.stop());

  for (const value of ['1', 'true', 'YES', 'On']) {
    it(`HF_HUB_OFFLINE=${value}: no request at all`, async () => {
      const before = hub.requests.length;
      const got = await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: { HF_HUB_OFFLINE: value } });
      assert.equal(got, folder);
      assert.equal(hub.requests.length, before);
    });
  }

  it('HF_HUB_OFFLINE=0 or false still asks the Hub', async () => {
    for (const value of ['0', 'false']) {
      const before = hub.requests.length;
      await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: { HF_HUB_OFFLINE: value } });
      assert.ok(hub.requests.length > before);
    }
  });

  it('local_files_only: no request at all', async () => {
    const before = hub.requests.length;
    assert.equal(await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv, local_files_only: true }), folder);
    assert.equal(hub.requests.length, before);
  });

  it('TRANSFORMERS_OFFLINE=1 counts too', async () => {
    const before = hub.requests.length;
    await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: { TRANSFORMERS_OFFLINE: '1' } });
    assert.equal(hub.requests.length, before);
  });

  it('offline with an empty cache: says what is missing and the command that downloads it', async () => {
    await assert.rejects(
      resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: tmpCache(), env: { HF_HUB_OFFLINE: '1' } }),
      (err: HubError) => {
        assert.equal(err.code, 'LocalEntryNotFound');
        assert.match(err.message, /^config\.json of org\/gpt2-tiny \(revision "main"\) is not in the Hugging Face cache at .+, and offline mode is on \(HF_HUB_OFFLINE=1\)\. /);
        assert.match(err.message, /gpt2-lens download org\/gpt2-tiny$/);
        return true;
      },
    );
    await assert.rejects(
      resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: tmpCache(), env: cleanEnv, local_files_only: true, revision: FAKE_TAG }),
      /local_files_only is set\. .*gpt2-lens download org\/gpt2-tiny --revision v1\.0$/,
    );
  });

  it('offline with the weights missing from the snapshot: names the weights', async () => {
    const c = tmpCache();
    await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: c, env: cleanEnv });
    rmSync(join(repoDir(c), 'snapshots', FAKE_COMMIT, 'model.safetensors'));
    await assert.rejects(
      resolveModelFolder('org/gpt2-tiny', { cache_dir: c, env: { HF_HUB_OFFLINE: '1' } }),
      /^HubError: weights \(model\.safetensors or model\.safetensors\.index\.json\) of org\/gpt2-tiny \(revision "main"\) is not in the Hugging Face cache, and offline mode is on/,
    );
  });

  it('the Hub unreachable (server stopped): the cached snapshot is used', async () => {
    const stopped = await new FakeHub().start();
    const c = tmpCache();
    const f = await resolveModelFolder('org/gpt2-tiny', { endpoint: stopped.url, cache_dir: c, env: cleanEnv });
    await stopped.stop();
    assert.equal(await resolveModelFolder('org/gpt2-tiny', { endpoint: stopped.url, cache_dir: c, env: cleanEnv }), f);
    // ... and with nothing cached the error says the Hub could not be reached
    await assert.rejects(
      resolveModelFolder('org/gpt2-tiny', { endpoint: stopped.url, cache_dir: tmpCache(), env: cleanEnv, ...fast }),
      /config\.json of org\/gpt2-tiny \(revision "main"\) is not in the Hugging Face cache at .*, and the Hub could not be reached at http:\/\/127\.0\.0\.1:\d+ \(.*ECONNREFUSED.*\)\. Check the connection \(and HF_ENDPOINT\), then run the command again\.$/,
    );
  });
});

describe('revisions', () => {
  let hub: FakeHub;
  before(async () => {
    hub = await new FakeHub().start();
  });
  after(() => hub.stop());

  it('a tag gets refs/<tag>; a commit gets no refs file and needs no request once cached', async () => {
    const cache = tmpCache();
    const f = await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv, revision: FAKE_TAG });
    assert.equal(readFileSync(join(repoDir(cache), 'refs', FAKE_TAG), 'utf8'), FAKE_COMMIT);
    const c2 = tmpCache();
    const g = await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: c2, env: cleanEnv, revision: FAKE_COMMIT });
    assert.equal(g, join(repoDir(c2), 'snapshots', FAKE_COMMIT));
    assert.equal(existsSync(join(repoDir(c2), 'refs')), false);
    const before = hub.requests.length;
    assert.equal(await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv, revision: FAKE_COMMIT }), f);
    assert.equal(hub.requests.length, before);
  });

  it('an unknown revision is a clear error', async () => {
    await assert.rejects(
      resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: tmpCache(), env: cleanEnv, revision: 'no-such-branch' }),
      (err: HubError) =>
        err.code === 'RevisionNotFound' &&
        err.message === 'revision "no-such-branch" does not exist in org/gpt2-tiny (HTTP 404); use a branch, a tag or a full 40-character commit hash',
    );
  });

  it('a renamed repo (relative redirect) is followed', async () => {
    hub.renamed['old-org/gpt2-tiny'] = 'org/gpt2-tiny';
    const cache = tmpCache();
    const f = await resolveModelFolder('old-org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv });
    assert.equal(f, join(cache, 'models--old-org--gpt2-tiny', 'snapshots', FAKE_COMMIT));
    assert.equal(sha256File(join(f, 'model.safetensors')), MODEL_SHA);
  });

  it('etags are normalised as huggingface_hub does', () => {
    assert.equal(normalizeEtag('W/"abc123"'), 'abc123');
    assert.equal(normalizeEtag('"abc123"'), 'abc123');
    assert.equal(normalizeEtag('abc123'), 'abc123');
  });
});

describe('interrupted and failing downloads', () => {
  let hub: FakeHub;
  beforeEach(async () => {
    await hub?.stop();
    hub = await new FakeHub().start();
  });
  after(() => hub.stop());
  const opts = (cache: string, extra: Partial<PretrainedOptions> = {}): PretrainedOptions => ({ endpoint: hub.url, cache_dir: cache, env: cleanEnv, ...fast, ...extra });

  it('a cut keeps the .incomplete bytes, and the next run resumes with a Range request', async () => {
    const cache = tmpCache();
    hub.fail({ file: 'model.safetensors', kind: 'drop', afterBytes: 5_000_000 });
    const incomplete = join(repoDir(cache), 'blobs', `${MODEL_SHA}.incomplete`);
    // The server sends 5,000,000 bytes then cuts; the client keeps what reached it before the cut (all of it,
    // unless the reset overtook the last segments on a loaded machine).
    let kept = -1;
    await assert.rejects(resolveModelFolder('org/gpt2-tiny', opts(cache, { retry: { maxRetries: 0 } })), (err: HubError) => {
      kept = statSync(incomplete).size;
      assert.equal(err.code, 'Network');
      assert.match(err.message, new RegExp(`^downloading model\\.safetensors failed after 1 attempt\\(s\\): .+ \\(${kept} of 21919480 bytes kept in .+\\.incomplete; run the same command again to resume\\)$`));
      return true;
    });
    assert.ok(kept > 1_000_000 && kept <= 5_000_000, `kept ${kept} bytes`);
    assert.equal(existsSync(join(repoDir(cache), 'snapshots', FAKE_COMMIT, 'model.safetensors')), false);

    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache));
    const gets = hub.requestsFor(MODEL_SHA, 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[1]!.range, `bytes=${kept}-`);
    assert.equal(gets[1]!.status, 206);
    assert.equal(gets[1]!.sent, 21919480 - kept);
    assert.equal(sha256File(join(folder, 'model.safetensors')), MODEL_SHA);
    assert.equal(existsSync(incomplete), false);
  });

  it('a cut mid-way is retried within the same call, resuming where it stopped', async () => {
    const cache = tmpCache();
    hub.fail({ file: 'model.safetensors', kind: 'drop', afterBytes: 3_000_000 });
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache));
    const gets = hub.requestsFor(MODEL_SHA, 'GET');
    assert.equal(gets.length, 2);
    assert.equal(gets[0]!.range, undefined);
    // resumed where the first response stopped reaching us: at most the 3,000,000 bytes sent before the cut
    const from = Number(/^bytes=(\d+)-$/.exec(gets[1]!.range ?? '')?.[1]);
    assert.ok(from > 1_000_000 && from <= 3_000_000, `resumed from ${gets[1]!.range}`);
    assert.equal(gets[1]!.sent, 21919480 - from);
    assert.equal(sha256File(join(folder, 'model.safetensors')), MODEL_SHA);
  });

  it('500 then OK: the HEAD and the download are retried', async () => {
    const cache = tmpCache();
    hub.fail({ file: 'config.json', method: 'HEAD', kind: 'status', status: 500 });
    hub.fail({ file: 'model.safetensors', method: 'GET', kind: 'status', status: 503, times: 2 });
    hub.fail({ file: 'vocab.json', method: 'GET', kind: 'status', status: 502 });
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache));
    assert.deepEqual(hub.requestsFor('config.json', 'HEAD').map((r) => r.status), [500, 200]);
    assert.deepEqual(hub.requestsFor(MODEL_SHA, 'GET').map((r) => r.status), [503, 503, 200]);
    assert.deepEqual(hub.requestsFor('vocab.json', 'GET').map((r) => r.status), [502, 200]);
    assert.equal(sha256File(join(folder, 'model.safetensors')), MODEL_SHA);
  });

  it('a server that stays silent past the timeout is retried', async () => {
    hub.fail({ file: 'config.json', method: 'HEAD', kind: 'stall', ms: 3000 });
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(tmpCache(), { timeout: 1 }));
    assert.ok(hub.requestsFor('config.json', 'HEAD').length >= 2, 'the stalled HEAD was retried');
    assert.equal(readFileSync(join(folder, 'config.json'), 'utf8'), readFileSync(join(FIXTURE_DIR, 'config.json'), 'utf8'));
  });

  it('5xx that never ends: the error says so after the retries', async () => {
    hub.fail({ file: 'model.safetensors', method: 'GET', kind: 'status', status: 500, times: 10 });
    await assert.rejects(
      resolveModelFolder('org/gpt2-tiny', opts(tmpCache(), { retry: { maxRetries: 2, baseDelayMs: 1 } })),
      /^HubError: http:\/\/127\.0\.0\.1:\d+ answered HTTP 500 for model\.safetensors of org\/gpt2-tiny$/,
    );
    assert.equal(hub.requestsFor(MODEL_SHA, 'GET').length, 3);
  });

  it('online, a file the Hub keeps failing on is an error, not a silently skipped optional file', async () => {
    hub.fail({ file: 'tokenizer_config.json', method: 'HEAD', kind: 'status', status: 500, times: 3 });
    await assert.rejects(
      resolveModelFolder('org/gpt2-tiny', opts(tmpCache())),
      new RegExp(`^HubError: tokenizer_config\\.json of org/gpt2-tiny \\(revision "${FAKE_COMMIT}"\\) is not in the Hugging Face cache at .+, and http://127\\.0\\.0\\.1:\\d+ answered HTTP 500 for tokenizer_config\\.json of org/gpt2-tiny\\. Check the connection`),
    );
    assert.equal(hub.requestsFor('tokenizer_config.json', 'HEAD').length, 3);
  });

  it('a checksum mismatch leaves nothing in snapshots/ or blobs/, and the next run succeeds', async () => {
    const cache = tmpCache();
    hub.fail({ file: 'model.safetensors', kind: 'corrupt' });
    await assert.rejects(resolveModelFolder('org/gpt2-tiny', opts(cache)), (err: HubError) => {
      assert.equal(err.code, 'ChecksumMismatch');
      assert.match(err.message, new RegExp(`^checksum mismatch for model\\.safetensors: the Hub says sha256 ${MODEL_SHA}, the downloaded bytes hash to [0-9a-f]{64}\\. The corrupt download was deleted; run the command again\\.$`));
      return true;
    });
    assert.equal(existsSync(join(repoDir(cache), 'snapshots', FAKE_COMMIT, 'model.safetensors')), false);
    assert.deepEqual(readdirSync(join(repoDir(cache), 'blobs')).filter((b) => b.startsWith(MODEL_SHA)), []);
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache));
    assert.equal(sha256File(join(folder, 'model.safetensors')), MODEL_SHA);
  });

  it('an .incomplete file longer than the blob is discarded, not trusted', async () => {
    const cache = tmpCache();
    mkdirSync(join(repoDir(cache), 'blobs'), { recursive: true });
    writeFileSync(join(repoDir(cache), 'blobs', `${MODEL_SHA}.incomplete`), new Uint8Array(21919480 + 10));
    const folder = await resolveModelFolder('org/gpt2-tiny', opts(cache));
    assert.equal(hub.requestsFor(MODEL_SHA, 'GET')[0]!.range, undefined);
    assert.equal(sha256File(join(folder, 'model.safetensors')), MODEL_SHA);
  });
});

describe('sharded weights', () => {
  it('downloads model.safetensors.index.json and every shard it names', async () => {
    const base = gpt2TinyRepo();
    const { shards, index } = shardSafetensors(base.files['model.safetensors']!, 2);
    delete base.files['model.safetensors'];
    const repo = { files: { ...base.files, 'model.safetensors.index.json': index, ...shards }, lfs: Object.keys(shards) };
    const hub = await new FakeHub({ repos: { 'org/gpt2-tiny': repo } }).start();
    try {
      const cache = tmpCache();
      const folder = await resolveModelFolder('org/gpt2-tiny', { endpoint: hub.url, cache_dir: cache, env: cleanEnv });
      for (const [name, bytes] of Object.entries(shards)) assert.equal(sha256File(join(folder, name)), sha256Hex(bytes));
      assert.deepEqual(JSON.parse(readFileSync(join(folder, 'model.safetensors.index.json'), 'utf8')), JSON.parse(new TextDecoder().decode(index)));
      assert.ok(existsSync(join(repoDir(cache), '.no_exist', FAKE_COMMIT, 'model.safetensors')));
      // offline, the cached "model.safetensors does not exist" leads to the index and the shards
      assert.equal(await resolveModelFolder('org/gpt2-tiny', { cache_dir: cache, env: { HF_HUB_OFFLINE: '1' } }), folder);
    } finally {
      await hub.stop();
    }
  });
});

describe('the progress bar', () => {
  it('formats sizes, percentage, speed and ETA on one line', () => {
    assert.equal(formatBytes(999), '999 B');
    assert.equal(formatBytes(1536), '1.5 kB');
    assert.equal(formatBytes(548_105_171), '548.1 MB');
    const line = renderProgressLine({ file: 'model.safetensors', loaded: 250_000_000, total: 500_000_000, resumedFrom: 0, done: false }, 10, 120);
    assert.equal(line, `model.safetensors         50% |${'█'.repeat(15)}${'░'.repeat(15)}| 250.0 MB / 500.0 MB  25.0 MB/s  ETA 0:10`);
    const resumed = renderProgressLine({ file: 'model.safetensors', loaded: 500_000_000, total: 500_000_000, resumedFrom: 400_000_000, done: true }, 4, 120);
    assert.match(resumed, /100% \|█{30}\| 500\.0 MB \/ 500\.0 MB {2}25\.0 MB\/s {2}in 0:04$/);
  });

  it('redraws one line in place and ends it when the file is done', () => {
    let written = '';
    const bar = terminalProgressBar({ write: (s: string) => (written += s), columns: 100 });
    bar({ file: 'config.json', loaded: 0, total: 665, resumedFrom: 0, done: false });
    bar({ file: 'config.json', loaded: 100, total: 665, resumedFrom: 0, done: false }); // within 100 ms: skipped
    bar({ file: 'config.json', loaded: 665, total: 665, resumedFrom: 0, done: true });
    const frames = written.split('\r\x1b[2K').slice(1);
    assert.equal(frames.length, 2);
    assert.match(frames[0]!, /^config\.json +0% /);
    assert.match(frames[1]!, /^config\.json +100% .*\n$/);
  });
});
