// examples/notebook.ts on the fixture model: all eight cells, every printed value checked against HF's goldens
// where one exists (tokenizer, forward, generate), and against independent computations elsewhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURE_DIR, REPO_ROOT, assertClose, readGolden } from './helpers/fixtures.js';
import { GPT2LMHeadModel, formatTensor } from '../src/index.js';
import { readTokenizerFolder } from '../src/node/tokenizer.js';
import { pyStr, runNotebook } from '../examples/notebook.js';
import '../src/node/model.js';

const forward = readGolden<{ cases: Array<{ input_ids: number[]; last_hidden_state: number[][]; logits_summary: { argmax: number[]; logsumexp: number[]; top5_ids: number[][]; top5_logits: number[][] } }> }>('golden-forward.json');
const generate = readGolden<{ cases: Array<{ name: string; new_tokens: number[][]; sequences: number[][] }> }>('golden-generate.json');
const tokGolden = readGolden<{ notebook: { ids: number[]; token_strings?: string[] } & Record<string, unknown> }>('golden-tokenizer.json');
const golden = (name: string) => generate.cases.find((c) => c.name === name)!;

test('the notebook\'s eight cells on the fixture model match the goldens', async () => {
  const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  const tokenizer = readTokenizerFolder(FIXTURE_DIR);
  const lines: string[] = [];
  // cell 7 with 12 new tokens, where golden-generate.json has HF's num_beams=2 result; cell 8 short
  const r = await runNotebook(model, tokenizer, (l) => lines.push(l), { beam_new_tokens: 12, sample_new_tokens: 8, seed: 7 });
  const g = forward.cases[0]!;
  const s = g.logits_summary;
  const text = lines.join('\n');

  // 1. the vocabulary
  assert.equal(r.vocabSize, 50257);
  assert.ok(lines.includes('len(vocab): 50257'));
  assert.ok(lines.includes("{0: '!', 1: '\"', 2: '#', 464: 'The', 4583: 'Ġtheory', 50256: '<|endoftext|>', ...}"));

  // 2. encode, and each id's text as Python prints it
  assert.deepEqual(r.ids, tokGolden.notebook.ids);
  assert.deepEqual(r.tokens, tokGolden.notebook.token_strings);
  assert.ok(lines.includes('[464, 4583, 286, 44449, 318]'));
  assert.ok(lines.includes("464 -> 'The'"));
  assert.ok(lines.includes("44449 -> ' relativity'"));

  // 3. print(model): GPT2Model's tree (the exact string is test/model-print.test.ts's)
  assert.ok(r.modelRepr.startsWith('GPT2Model(\n  (wte): Embedding(50257, 64)\n  (wpe): Embedding(1024, 64)\n'));
  assert.ok(r.modelRepr.includes('\n  (h): ModuleList(\n    (0-1): 2 x GPT2Block(\n'));
  assert.ok(text.includes(`## 3. print(model)\n${r.modelRepr}\n`));

  // 4. last_hidden_state printed as torch prints HF's tensor, and its torch.Size
  assert.deepEqual(r.hiddenDims, [1, 5, 64]);
  assertClose('last_hidden_state[0, 0, :5]', r.firstHidden, g.last_hidden_state[0]!.slice(0, 5), { atol: 1e-5 });
  const hfPrint = formatTensor({ data: Float32Array.from(g.last_hidden_state.flat()), dims: [1, 5, 64] });
  assert.equal(r.hiddenPrint, hfPrint);
  assert.ok(text.includes(`${hfPrint}\ntorch.Size([1, 5, 64])`));

  // 5. logits, top-10 (the first 5 are HF's top-5, prob = exp(logit - logsumexp)), argmax, the greedy loop
  assert.deepEqual(r.logitsDims, [1, 5, 50257]);
  assert.ok(lines.includes('logits.shape: torch.Size([1, 5, 50257])'));
  assert.deepEqual(r.top10.slice(0, 5).map((t) => t.id), s.top5_ids[4]);
  const expected = s.top5_logits[4]!.map((l) => Math.exp(l - s.logsumexp[4]!));
  assertClose('top-5 probabilities', r.top10.slice(0, 5).map((t) => t.prob), expected, { atol: 1e-5 });
  assert.ok(lines.includes(`${expected[0]!.toFixed(3)} ${tokenizer.decode([s.top5_ids[4]![0]!])}`));
  assert.equal(r.argmax, s.argmax[4]);
  assert.ok(lines.includes(`argmax: ${s.argmax[4]} -> ${pyStr(tokenizer.decode([s.argmax[4]!]))}`));
  assert.deepEqual(r.greedyIds, golden('greedy_20').new_tokens[0]!.slice(0, 15)); // = HF's generate, greedy
  assert.equal(r.text, tokenizer.decode([...r.ids, ...r.greedyIds]));
  assert.ok(lines.includes(r.text));

  // 6. the exercise and 7. generate(num_beams=2): both HF's num_beams=2 sequence
  assert.deepEqual(r.exerciseIds, golden('beam2').sequences[0]);
  assert.deepEqual(r.beamIds, golden('beam2').sequences[0]);
  assert.ok(text.includes(`max_new_tokens=12, num_beams=2)\n${tokenizer.decode(r.beamIds)}\n`));

  // 8. beam sampling, seeded: the same seed gives the same tokens as generate() called directly
  const again = await model.generate({ input_ids: [r.ids], pad_token_id: 50256, max_new_tokens: 8, num_beams: 4, temperature: 2, do_sample: true, repetition_penalty: 10, seed: 7 });
  assert.deepEqual(r.sampledIds, again.sequences[0]);
  assert.ok(r.sampledIds.length > r.ids.length);
  assert.equal(lines[lines.length - 1], tokenizer.decode(r.sampledIds, { skip_special_tokens: true }));
  assert.ok(!lines.some((l) => l.includes('RANDOM')));
});

test('pyStr quotes as Python\'s repr(str)', () => {
  assert.equal(pyStr('The'), "'The'");
  assert.equal(pyStr(" it's"), '" it\'s"');
  assert.equal(pyStr('a\nb\\'), "'a\\nb\\\\'");
  assert.equal(pyStr('\u0001'), "'\\x01'");
});

test('npm run example:notebook -- --model FOLDER --seed N runs all eight cells; bad --steps / --seed exit 2', () => {
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const run = spawnSync(tsx, ['examples/notebook.ts', '--model', FIXTURE_DIR, '--steps', '3', '--seed', '7'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(run.status, 0, run.stderr);
  const lines = run.stdout.trimEnd().split('\n');
  for (let cell = 1; cell <= 8; cell++) assert.equal(lines.filter((l) => l.startsWith(`## ${cell}. `)).length, 1, `cell ${cell}`);
  const tokenizer = readTokenizerFolder(FIXTURE_DIR);
  assert.ok(lines.includes(tokenizer.decode([464, 4583, 286, 44449, 318, ...golden('greedy_20').new_tokens[0]!.slice(0, 3)])));
  assert.ok(lines.includes('## 8. model.generate(..., max_new_tokens=100, num_beams=4, temperature=2.0, do_sample=True, repetition_penalty=10.0)  seed 7'));
  assert.ok(lines[lines.length - 1]!.startsWith('The theory of relativity is'));
  const bad = spawnSync(tsx, ['examples/notebook.ts', '--model', FIXTURE_DIR, '--steps', '0'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), '--steps must be a positive integer, got 0');
  const badSeed = spawnSync(tsx, ['examples/notebook.ts', '--model', FIXTURE_DIR, '--seed', '-1'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(badSeed.status, 2);
  assert.equal(badSeed.stderr.trim(), '--seed must be a non-negative integer, got -1');
});
