// The CLI's hub commands: `gpt2-lens download` and `gpt2-lens cache ls`, run against the fake Hub.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DEFAULT_MODEL, loadModelAndTokenizer, modelOption } from '../src/cli/model-option.js';
import { CLI_MAIN, runTsx, type CliResult } from './helpers/cli.js';
import { FAKE_COMMIT, FakeHub } from './helpers/hub-server.js';

let hub: FakeHub;
let cache: string;
before(async () => {
  hub = await new FakeHub().start();
  cache = mkdtempSync(join(tmpdir(), 'gpt2-lens-hub-cli-'));
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_HUB_CACHE = cache;
  process.env.HF_HUB_DISABLE_IMPLICIT_TOKEN = '1';
  delete process.env.HF_HUB_OFFLINE;
});
after(async () => {
  await hub.stop();
  rmSync(cache, { recursive: true, force: true });
});

/**
 * Runs the CLI in a child process (the test runner itself reports through this process's stdout, so the CLI's
 * stdout cannot be captured in-process; and the fake Hub in this process must keep answering meanwhile).
 */
const cli = (...args: string[]): Promise<CliResult> => runTsx([CLI_MAIN, ...args]);

const snapshot = () => join(cache, 'models--org--gpt2-tiny', 'snapshots', FAKE_COMMIT);

describe('gpt2-lens download', () => {
  it('--quiet prints only the snapshot folder', async () => {
    const r = await cli('download', 'org/gpt2-tiny', '--quiet');
    assert.equal(r.stderr, '');
    assert.equal(r.code, 0);
    assert.equal(r.stdout, `${snapshot()}\n`);
  });

  it('lists the files with their sizes, then the folder', async () => {
    const r = await cli('download', 'org/gpt2-tiny', '--revision', 'v1.0');
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.equal(lines[0], `org/gpt2-tiny (revision v1.0) is in ${cache}:`);
    assert.match(lines[1]!, /^ {2}config\.json +671 B$/);
    assert.match(r.stdout, /\n {2}model\.safetensors +21\.9 MB\n/);
    assert.match(r.stdout, /\n {2}total +23\.4 MB\n/);
    assert.equal(lines.at(-1), snapshot());
  });

  it('errors: random weights (exit 2), an unknown repo and offline misses (exit 1, one line)', async () => {
    assert.deepEqual(await cli('download', 'random:gpt2'), { code: 2, stdout: '', stderr: 'gpt2-lens: random:gpt2 is made of random weights: there is nothing to download\n' });
    const missing = await cli('download', 'org/nope', '--quiet');
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /^gpt2-lens: repository org\/nope was not found on http:\/\/127\.0\.0\.1:\d+ \(HTTP 401\)/);
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const off = await cli('download', 'org/other', '--revision', 'dev');
      assert.equal(off.code, 1);
      assert.match(off.stderr, /offline mode is on \(HF_HUB_OFFLINE=1\)\. Download the model first, with the network on: gpt2-lens download org\/other --revision dev\n$/);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
  });
});

describe('gpt2-lens cache ls', () => {
  it('prints one row per repo, and JSON with --json', async () => {
    await cli('download', 'org/gpt2-tiny', '--quiet');
    const r = await cli('cache', 'ls');
    assert.equal(r.code, 0);
    assert.equal(
      r.stdout,
      'REPO ID        SIZE ON DISK  FILES  REFS        SNAPSHOTS\n' +
        `org/gpt2-tiny       23.4 MB      7  main, v1.0  ${FAKE_COMMIT.slice(0, 8)}\n` +
        '\n' +
        `1 repo(s), 23.4 MB in ${cache}\n`,
    );
    const j = JSON.parse((await cli('cache', 'ls', '--json')).stdout) as { cache_dir: string; repos: { repoId: string; refs: Record<string, string>; snapshots: { files: string[] }[] }[] };
    assert.equal(j.cache_dir, cache);
    assert.equal(j.repos[0]!.repoId, 'org/gpt2-tiny');
    assert.deepEqual(j.repos[0]!.refs, { main: FAKE_COMMIT, 'v1.0': FAKE_COMMIT });
    assert.ok(j.repos[0]!.snapshots[0]!.files.includes('model.safetensors'));
  });

  it('an empty cache says how to fill it', async () => {
    const r = await cli('cache', 'ls', '--cache-dir', join(cache, 'nothing-here'));
    assert.equal(r.stdout, `No models in the Hugging Face cache at ${join(cache, 'nothing-here')}.\nDownload one with: gpt2-lens download openai-community/gpt2\n`);
  });
});

describe('the shared --model option', () => {
  it('defaults to openai-community/gpt2', () => {
    assert.equal(DEFAULT_MODEL, 'openai-community/gpt2');
    assert.equal(modelOption().defaultValue, 'openai-community/gpt2');
    assert.equal(modelOption().long, '--model');
  });

  it('loadModelAndTokenizer: a Hub id gives the model and its tokenizer from one snapshot; random:gpt2 the bundled vocabulary', async () => {
    const { model, tokenizer } = await loadModelAndTokenizer('org/gpt2-tiny', { quiet: true });
    assert.equal(model.config.n_embd, 64);
    assert.deepEqual(tokenizer.encode('The theory of relativity is'), [464, 4583, 286, 44449, 318]);
    const random = await loadModelAndTokenizer('random:64x2x4');
    assert.equal(random.model.config.n_layer, 2);
    assert.deepEqual(random.tokenizer.encode(' the'), [262]);
  });
});
