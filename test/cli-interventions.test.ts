// `gpt2-lens next/generate --ablate`, `attribute` and `patch`, spawned as a user runs them on the fixture model:
// the JSON shapes of issue 13, the same numbers as the library, and the exact one-line errors (exit 2).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { GPT2LMHeadModel, ablate, attribute, parseHeads, patch } from '../src/index.js';
import { readTokenizerFolder } from '../src/node/tokenizer.js';
import '../src/node/model.js';

const cli = (...args: string[]): CliResult => runCli([...args, '--model', FIXTURE_DIR]);
const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const tokenizer = readTokenizerFolder(FIXTURE_DIR);
const PROMPT = 'The theory of relativity is';
const CLEAN = 'When Mary and John went to the store';
const CORRUPTED = 'When John and Mary went to the store';
const close = (a: number, b: number, what: string): void => assert.ok(Math.abs(a - b) < 1e-4, `${what}: ${a} vs ${b}`);

test('next --ablate --ablation mean --json: the same JSON as next, the library ablate()\'s numbers', async () => {
  const r = cli('next', PROMPT, '--ablate', '1.2,0.0', '--ablation', 'mean', '--top', '4', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Awaited<ReturnType<typeof ablate>>;
  assert.deepEqual(Object.keys(out), ['input_ids', 'top']);
  assert.deepEqual(Object.keys(out.top[0]!), ['id', 'token', 'prob', 'logit']);
  const lib = await ablate(model, tokenizer.encode(PROMPT), parseHeads('1.2,0.0', model.config), { kind: 'mean', top: 4, tokenizer });
  assert.deepEqual(out.top.map((t) => t.id), lib.top.map((t) => t.id));
  out.top.forEach((t, i) => close(t.logit, lib.top[i]!.logit, `logit ${t.id}`));
  const plain = JSON.parse(cli('next', PROMPT, '--top', '4', '--json').stdout) as typeof out;
  assert.notDeepEqual(plain.top.map((t) => t.logit), out.top.map((t) => t.logit));
});

test('generate --ablate: greedy with the heads ablated at every step', () => {
  const r = cli('generate', PROMPT, '--ablate', '1.2', '--max-new-tokens', '3', '--json', '--reference');
  assert.equal(r.code, 0, r.stderr);
  const ids = (JSON.parse(r.stdout) as { sequences: Array<{ ids: number[] }> }).sequences[0]!.ids;
  assert.equal(ids.length, 8);
});

test('attribute --json: the issue\'s shape, the library\'s values, and they sum to the logit', async () => {
  const r = cli('attribute', PROMPT, '--target', ' healing', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Awaited<ReturnType<typeof attribute>>;
  assert.deepEqual(Object.keys(out), ['input_ids', 'target', 'logit', 'components']);
  assert.equal(out.target, 11516);
  assert.deepEqual(out.components.slice(0, 3).map((c) => c.name), ['embed', 'pos_embed', 'L0H0']);
  assert.equal(out.components.at(-1)!.name, 'ln_final_bias');
  close(out.components.reduce((a, c) => a + c.value, 0), out.logit, 'sum');
  const lib = await attribute(model, out.input_ids, 11516);
  out.components.forEach((c, i) => close(c.value, lib.components[i]!.value, c.name));
  const table = cli('attribute', PROMPT, '--target', '11516', '--top', '3');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /15 components sum to 16\.534\d; the 3 largest:\n\ncomponent +value\nL0_mlp +8\.319\d/);
});

test('patch --json: the issue\'s shape and the library\'s grid; z is layer × head', async () => {
  const r = cli('patch', '--clean', CLEAN, '--corrupted', CORRUPTED, '--answer', ' John', '--wrong', ' Mary', '--hook', 'z', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as Awaited<ReturnType<typeof patch>>;
  assert.deepEqual(Object.keys(out), ['clean_logit_diff', 'corrupted_logit_diff', 'hook', 'rows', 'cols', 'recovered']);
  assert.deepEqual([out.hook, out.rows, out.cols], ['z', ['L0', 'L1'], ['H0', 'H1', 'H2', 'H3']]);
  const lib = await patch(model, { clean: tokenizer.encode(CLEAN), corrupted: tokenizer.encode(CORRUPTED), answer: 1757, wrong: 5335, hook: 'z' });
  out.recovered.flat().forEach((v, i) => close(v, lib.recovered.flat()[i]!, `cell ${i}`));
  const table = cli('patch', '--clean', CLEAN, '--corrupted', CORRUPTED, '--answer', ' John', '--wrong', ' Mary', '--reference');
  assert.equal(table.code, 0, table.stderr);
  assert.match(table.stdout, /\n +When +Mary\/ John +and +John\/ Mary +went +to +the +store\nL0 +0\.000 +1\.841 /);
});

test('exact errors, exit 2: token counts, zero denominator, bad L.H, unknown token', () => {
  const cases: Array<[string[], string]> = [
    [['patch', '--clean', CLEAN, '--corrupted', 'When John went', '--answer', ' John', '--wrong', ' Mary'], 'the clean and corrupted prompts must have the same number of tokens: clean has 8, corrupted has 3'],
    [['patch', '--clean', CLEAN, '--corrupted', CORRUPTED, '--answer', ' John', '--wrong', ' Mary', '--hook', 'toString'], '--hook must be one of resid_pre, attn_out, mlp_out, z, got "toString"'],
    [['next', PROMPT, '--ablate', '2.0'], 'head 2.0 is out of range: this model has layers 0..1 and heads 0..3'],
    [['next', PROMPT, '--ablate', '1:2'], 'bad head "1:2": expected L.H (layer.head, e.g. 9.6), a comma-separated list of them'],
    [['attribute', PROMPT, '--target', ' Parisian'], 'unknown token " Parisian": it is 2 tokens [6342, 666], not one (give a token id, or the text of a single token, spaces included, e.g. " Paris")'],
  ];
  for (const [args, message] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.equal(r.stderr, `gpt2-lens: ${message}\n`);
  }
  const same = cli('patch', '--clean', CLEAN, '--corrupted', CLEAN, '--answer', ' John', '--wrong', ' Mary');
  assert.equal(same.code, 2);
  assert.match(same.stderr, /^gpt2-lens: the clean and corrupted prompts give the same logit difference \(-?[\d.]+\), so recovered = \(patched − corrupted\) ÷ \(clean − corrupted\) has a zero denominator: pick prompts, answer and wrong tokens that the model tells apart\n$/);
});
