// End to end: GPT2LMHeadModel.from_pretrained('org/gpt2-tiny') and AutoTokenizer.from_pretrained with HF_ENDPOINT
// pointing at the fake Hub download into the HF cache, load, and give HF's logits, the same as the fixture folder.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { GPT2LMHeadModel } from '../src/model/index.js';
import '../src/node/model.js'; // registers the folder / Hub loader
import { AutoTokenizer } from '../src/node/tokenizer.js';
import { assertClose, FIXTURE_DIR, readBinRef, readGolden } from './helpers/fixtures.js';
import { FAKE_COMMIT, FakeHub, gpt2TinyRepo, shardSafetensors } from './helpers/hub-server.js';

interface ForwardGolden {
  cases: { text: string; input_ids: number[]; logits: { file: string; offset: number; shape: number[] } }[];
}

const golden = readGolden<ForwardGolden>('golden-forward.json').cases[0]!;
const base = gpt2TinyRepo();
const { shards, index } = shardSafetensors(base.files['model.safetensors']!, 3);
const shardedFiles: Record<string, Uint8Array> = { ...base.files, 'model.safetensors.index.json': index, ...shards };
delete shardedFiles['model.safetensors'];

let hub: FakeHub;
let cache: string;
before(async () => {
  hub = await new FakeHub({ repos: { 'org/gpt2-tiny': base, 'org/gpt2-tiny-sharded': { files: shardedFiles, lfs: Object.keys(shards) } } }).start();
  cache = mkdtempSync(join(tmpdir(), 'gpt2-lens-hub-e2e-'));
  process.env.HF_ENDPOINT = hub.url;
  process.env.HF_HUB_CACHE = cache;
  delete process.env.HF_HUB_OFFLINE;
  delete process.env.TRANSFORMERS_OFFLINE;
  process.env.HF_HUB_DISABLE_IMPLICIT_TOKEN = '1'; // never send a developer's real token to the test server
});
after(async () => {
  await hub.stop();
  rmSync(cache, { recursive: true, force: true });
});

describe('from_pretrained through the Hub', () => {
  it('downloads org/gpt2-tiny, loads it, and matches the fixture folder and the HF logits', async () => {
    const fromHub = await GPT2LMHeadModel.from_pretrained('org/gpt2-tiny', { quiet: true });
    const fromFolder = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
    const a = (await fromHub.forward({ input_ids: [golden.input_ids] })).logits;
    const b = (await fromFolder.forward({ input_ids: [golden.input_ids] })).logits;
    assert.deepEqual(a.dims, [1, 5, 50257]);
    assert.deepEqual(a.data, b.data);
    assertClose('logits (hub)', a.data, readBinRef(golden.logits), { atol: 1e-4, dims: [5, 50257] });
    assert.equal(hub.requestsFor('model.safetensors', 'HEAD').length, 1);
  });

  it('AutoTokenizer.from_pretrained reuses the cached snapshot offline', async () => {
    process.env.HF_HUB_OFFLINE = '1';
    try {
      const before = hub.requests.length;
      const tok = await AutoTokenizer.from_pretrained('org/gpt2-tiny');
      assert.deepEqual(tok.encode(golden.text), golden.input_ids);
      const model = await GPT2LMHeadModel.from_pretrained('org/gpt2-tiny', { quiet: true });
      assert.equal(model.config.n_layer, 2);
      assert.equal(hub.requests.length, before);
    } finally {
      delete process.env.HF_HUB_OFFLINE;
    }
  });

  it('a sharded repo (index + 3 shards) loads to the same logits', async () => {
    const model = await GPT2LMHeadModel.from_pretrained('org/gpt2-tiny-sharded', { quiet: true, revision: FAKE_COMMIT });
    const logits = (await model.forward({ input_ids: [golden.input_ids] })).logits;
    assertClose('logits (sharded)', logits.data, readBinRef(golden.logits), { atol: 1e-4, dims: [5, 50257] });
    assert.equal(hub.requests.filter((r) => r.path.startsWith('/cdn/')).length, 1 + 3);
  });
});
