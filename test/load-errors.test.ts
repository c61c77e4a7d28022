// Issue 10: a model folder whose files are broken gets a message naming the file and the problem.
//   - config.json / model.safetensors / vocab.json that is a folder, a symbolic link loop or a dangling link;
//   - a damaged safetensors file in the HF cache says the command that repairs it;
//   - a bad value in generation_config.json names the file and the key (not a usage error);
//   - a merges.txt that is not a merges file is refused with its first bad line.
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { GPT2LMHeadModel } from '../src/model/index.js';
import '../src/node/model.js';
import type { GenerationError } from '../src/generation/configuration.js';
import { parseMergesText, type MergesError } from '../src/tokenizer/merges.js';
import { bundledVocabFolder, readTokenizerFolder } from '../src/node/tokenizer.js';
import { CLI_MAIN, runTsx } from './helpers/cli.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import { FAKE_COMMIT, sha256Hex, gitBlobSha1 } from './helpers/hub-server.js';
import { tempDirs } from './helpers/temp.js';

const tmp = tempDirs('gpt2-lens-load-err-');
const FILES = ['config.json', 'generation_config.json', 'vocab.json', 'merges.txt', 'tokenizer_config.json', 'special_tokens_map.json', 'model.safetensors'];

/** A copy of the gpt2-tiny fixture folder. */
function fixtureCopy(): string {
  const dir = tmp();
  for (const f of FILES) copyFileSync(join(FIXTURE_DIR, f), join(dir, f));
  return dir;
}

/** The fixture laid out in an HF cache as org/gpt2-tiny at FAKE_COMMIT (refs/main -> it); returns the snapshot. */
function cachedFixture(): { cache: string; snapshot: string; blob: (f: string) => string } {
  const cache = tmp();
  const repo = join(cache, 'models--org--gpt2-tiny');
  const snapshot = join(repo, 'snapshots', FAKE_COMMIT);
  mkdirSync(join(repo, 'blobs'), { recursive: true });
  mkdirSync(join(repo, 'refs'));
  mkdirSync(snapshot, { recursive: true });
  writeFileSync(join(repo, 'refs', 'main'), FAKE_COMMIT);
  const etag = (f: string) => (f === 'model.safetensors' ? sha256Hex(readFileSync(join(FIXTURE_DIR, f))) : gitBlobSha1(readFileSync(join(FIXTURE_DIR, f))));
  for (const f of FILES) {
    copyFileSync(join(FIXTURE_DIR, f), join(repo, 'blobs', etag(f)));
    symlinkSync(`../../blobs/${etag(f)}`, join(snapshot, f));
  }
  return { cache, snapshot, blob: (f) => join(repo, 'blobs', etag(f)) };
}

const load = (folder: string) => GPT2LMHeadModel.from_pretrained(folder);

describe('a file that is a folder, a link loop or a dangling link', () => {
  for (const file of ['config.json', 'model.safetensors', 'generation_config.json']) {
    it(`${file} as a folder, then as a link loop: named, with the problem`, async () => {
      const dir = fixtureCopy();
      const p = join(dir, file);
      rmSync(p);
      mkdirSync(p);
      await assert.rejects(load(dir), { message: `${p} is a folder, not a file` });
      rmSync(p, { recursive: true });
      symlinkSync(file, p); // points at itself
      await assert.rejects(load(dir), { message: `${p} is a symbolic link loop` });
    });
  }

  it('vocab.json and merges.txt as a folder / a dangling link: the tokenizer names them', () => {
    const dir = fixtureCopy();
    rmSync(join(dir, 'vocab.json'));
    mkdirSync(join(dir, 'vocab.json'));
    assert.throws(() => readTokenizerFolder(dir), { message: `${join(dir, 'vocab.json')} is a folder, not a file` });
    rmSync(join(dir, 'vocab.json'), { recursive: true });
    copyFileSync(join(FIXTURE_DIR, 'vocab.json'), join(dir, 'vocab.json'));
    rmSync(join(dir, 'merges.txt'));
    symlinkSync('gone.txt', join(dir, 'merges.txt'));
    assert.throws(() => readTokenizerFolder(dir), { message: `${join(dir, 'merges.txt')} is a symbolic link to gone.txt, which does not exist` });
  });

  it('in the HF cache, a link to a deleted blob says the command that repairs it', async () => {
    const { snapshot, blob } = cachedFixture();
    rmSync(blob('config.json'));
    await assert.rejects(load(snapshot), {
      message: `${join(snapshot, 'config.json')} is a symbolic link to ../../blobs/${gitBlobSha1(readFileSync(join(FIXTURE_DIR, 'config.json')))}, which does not exist. Repair the cache with: gpt2-lens download org/gpt2-tiny --force`,
    });
  });
});

describe('a damaged safetensors file in the cache', () => {
  it('truncated: the message says `gpt2-lens download <repo> --force` (with --revision when main points elsewhere)', async () => {
    const { cache, snapshot, blob } = cachedFixture();
    truncateSync(blob('model.safetensors'), 1_000_000);
    await assert.rejects(load(snapshot), (err: Error) => {
      assert.match(err.message, new RegExp(`^${join(snapshot, 'model.safetensors').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is truncated: .*\\. Repair the cache with: gpt2-lens download org/gpt2-tiny --force$`));
      return true;
    });
    writeFileSync(join(cache, 'models--org--gpt2-tiny', 'refs', 'main'), 'f'.repeat(40));
    await assert.rejects(load(snapshot), new RegExp(`Repair the cache with: gpt2-lens download org/gpt2-tiny --revision ${FAKE_COMMIT} --force$`));
  });

  it('outside the cache, no repair command (there is nothing to download)', async () => {
    const dir = fixtureCopy();
    truncateSync(join(dir, 'model.safetensors'), 1_000_000);
    await assert.rejects(load(dir), (err: Error) => /is truncated/.test(err.message) && !/Repair/.test(err.message));
  });
});

describe('a bad value in generation_config.json', () => {
  it('names the file and the key, and is not a usage error; a call option that overrides it is fine', async () => {
    const dir = fixtureCopy();
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: 50256, eos_token_id: 50256, do_sample: 'yes' }));
    const model = await load(dir);
    await assert.rejects(model.generate({ input_ids: [464, 4583], max_new_tokens: 2 }), (err: GenerationError) => {
      assert.equal(err.source, 'generation_config.json');
      assert.equal(err.message, `the model's generation_config.json (${dir}) is invalid: \`do_sample\` must be true or false, but is "yes"`);
      return true;
    });
    const out = await model.generate({ input_ids: [464, 4583], max_new_tokens: 2, do_sample: false });
    assert.equal(out.sequences[0]!.length, 4);
    // the caller's own bad value is still the caller's
    await assert.rejects(model.generate({ input_ids: [464], max_new_tokens: 2, top_p: 7, do_sample: false }), (err: GenerationError) => err.source === 'options' && /^`top_p` has to be/.test(err.message));
  });

  it('the CLI exits 1 (not 2) with the file named', async () => {
    const dir = fixtureCopy();
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ temperature: 'hot', do_sample: true }));
    const r = await runTsx([CLI_MAIN, 'generate', 'Hello', '--model', dir, '--max-new-tokens', '2', '--reference']);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(r.stderr, `gpt2-lens: the model's generation_config.json (${dir}) is invalid: \`temperature\` must be a number, but is "hot"\n`);
  });

  it('the server answers 500 naming the file and the key, without the folder\'s path (the request is not at fault)', async () => {
    const dir = fixtureCopy();
    writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ temperature: 'hot', do_sample: true }));
    const { createServer } = await import('../src/server/index.js');
    const server = createServer({ model: await load(dir), tokenizer: readTokenizerFolder(dir), webRoot: dir });
    const { url } = await server.listen(0, '127.0.0.1');
    try {
      const res = await fetch(new URL('/api/generate', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'Hello', max_new_tokens: 2 }) });
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { error: { message: "the model's generation_config.json is invalid: `temperature` must be a number, but is \"hot\"", param: null } });
    } finally {
      await server.close();
    }
  });
});

describe('merges.txt', () => {
  it('the real GPT-2 merges (bundled and fixture) still load: 50,000 merges each, after the #version line', () => {
    for (const p of [join(bundledVocabFolder(), 'merges.txt'), join(FIXTURE_DIR, 'merges.txt')]) {
      const merges = parseMergesText(readFileSync(p, 'utf8'));
      assert.equal(merges.length, 50000);
      assert.deepEqual(merges[0], ['Ġ', 't']);
    }
  });

  it('a file that is not a merges file is refused with its first bad line', () => {
    const dir = fixtureCopy();
    copyFileSync(join(FIXTURE_DIR, 'vocab.json'), join(dir, 'merges.txt')); // the wrong file under the name
    assert.throws(() => readTokenizerFolder(dir), (err: Error) => {
      assert.match(err.message, new RegExp(`^${join(dir, 'merges.txt').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} is not a merges file: line 1 is not a merge \\(.+\\): each line after the first must be two tokens separated by a space, e\\.g\\. "Ġ t"$`));
      return true;
    });
    assert.throws(() => parseMergesText('#version: 0.2\nĠ t\na b c\n'), (err: MergesError) => err.line === 3 && err.message.startsWith('line 3 is not a merge ("a b c")'));
    assert.throws(() => parseMergesText('#version: 0.2\nĠ t\n\nh e\n'), (err: MergesError) => err.line === 3 && err.message.startsWith('line 3 is empty'));
    assert.throws(() => parseMergesText('<html>\n<body>Not found</body>\n</html>\n'), { message: /^line 1 is not a merge \("<html>"\)/ });
    assert.throws(() => parseMergesText('#version: 0.2\n<p>Not found here</p>\n'), { message: /^line 2 is not a merge \("<p>Not found here<\/p>"\)/ });
    assert.throws(() => parseMergesText('#version: 0.2\nĠ t\nno-newline-at-end'), { message: /^line 3 is not a merge \("no-newline-at-end"\)/ });
    // what HF's slow tokenizer does with a file that has no #version line: drops the first line (and the last)
    assert.deepEqual(parseMergesText('h e\nĠ t\nl l'), [['Ġ', 't']]);
    assert.deepEqual(parseMergesText(''), []);
    assert.deepEqual(parseMergesText('#version: 0.2\nĠ t\r\nh e\n'), [['Ġ', 't'], ['h', 'e']]);
  });
});
