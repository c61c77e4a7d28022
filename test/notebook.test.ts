// examples/notebook.ts on the fixture model: every printed number checked against HF's goldens.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURE_DIR, REPO_ROOT, assertClose, readGolden } from './helpers/fixtures.js';
import { GPT2LMHeadModel } from '../src/index.js';
import { readTokenizerFolder } from '../src/node/tokenizer.js';
import { runNotebook } from '../examples/notebook.js';
import '../src/node/model.js';

const forward = readGolden<{ cases: Array<{ input_ids: number[]; last_hidden_state: number[][]; logits_summary: { argmax: number[]; logsumexp: number[]; top5_ids: number[][]; top5_logits: number[][] } }> }>('golden-forward.json');
const generate = readGolden<{ cases: Array<{ name: string; new_tokens: number[][] }> }>('golden-generate.json');
const tokGolden = readGolden<{ notebook: { ids: number[]; token_strings?: string[] } & Record<string, unknown> }>('golden-tokenizer.json');

test('the notebook cells on the fixture model match the goldens', async () => {
  const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  const tokenizer = readTokenizerFolder(FIXTURE_DIR);
  const lines: string[] = [];
  const r = await runNotebook(model, tokenizer, (l) => lines.push(l));
  const g = forward.cases[0]!;
  const s = g.logits_summary;

  assert.deepEqual(r.ids, [464, 4583, 286, 44449, 318]);
  assert.deepEqual(r.ids, tokGolden.notebook.ids);
  assert.deepEqual(r.tokens, tokGolden.notebook.token_strings);
  assert.ok(lines.includes('input_ids: [464, 4583, 286, 44449, 318]'));
  assert.ok(lines.includes('  44449 → " relativity"'));

  assert.deepEqual(r.hiddenDims, [1, 5, 64]);
  assertClose('last_hidden_state[0, 0, :5]', r.firstHidden, g.last_hidden_state[0]!.slice(0, 5), { atol: 1e-5 });
  assert.ok(lines.includes(`last_hidden_state[0, 0, :5]: [${g.last_hidden_state[0]!.slice(0, 5).map((x) => x.toFixed(4)).join(', ')}]`));
  assert.deepEqual(r.logitsDims, [1, 5, 50257]);
  assert.ok(lines.includes('logits.shape: [1, 5, 50257]   (batch, tokens, vocab_size)'));

  // top-10 by probability: the first 5 are HF's top-5 at the last position, prob = exp(logit - logsumexp)
  assert.deepEqual(r.top10.slice(0, 5).map((t) => t.id), s.top5_ids[4]);
  const expected = s.top5_logits[4]!.map((l) => Math.exp(l - s.logsumexp[4]!));
  assertClose('top-5 probabilities', r.top10.slice(0, 5).map((t) => t.prob), expected, { atol: 1e-5 });
  const first = r.top10[0]!;
  assert.ok(lines.some((l) => l.includes(JSON.stringify(first.token)) && l.endsWith(expected[0]!.toFixed(3))), 'the top token is printed with its probability');
  assert.equal(r.argmax, s.argmax[4]);
  assert.ok(lines.includes(`argmax: ${s.argmax[4]} → ${JSON.stringify(tokenizer.decode([s.argmax[4]!]))}`));

  // the hand-written greedy loop = HF's generate(max_new_tokens=20, greedy), first 15 tokens
  const greedy = generate.cases.find((c) => c.name === 'greedy_20')!;
  assert.deepEqual(r.greedyIds, greedy.new_tokens[0]!.slice(0, 15));
  assert.equal(r.text, tokenizer.decode([...r.ids, ...r.greedyIds]));
  assert.equal(lines[lines.length - 1], r.text);
  assert.ok(!lines.some((l) => l.includes('RANDOM')));
});

test('npm run example:notebook -- --model FOLDER prints the same greedy text; bad --steps exits 2', async () => {
  const tsx = join(REPO_ROOT, 'node_modules', '.bin', 'tsx');
  const run = spawnSync(tsx, ['examples/notebook.ts', '--model', FIXTURE_DIR, '--steps', '3'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(run.status, 0, run.stderr);
  const tokenizer = readTokenizerFolder(FIXTURE_DIR);
  const greedy = generate.cases.find((c) => c.name === 'greedy_20')!;
  const text = tokenizer.decode([464, 4583, 286, 44449, 318, ...greedy.new_tokens[0]!.slice(0, 3)]);
  assert.equal(run.stdout.trimEnd().split('\n').pop(), text);
  const bad = spawnSync(tsx, ['examples/notebook.ts', '--model', FIXTURE_DIR, '--steps', '0'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), '--steps must be a positive integer, got 0');
});
