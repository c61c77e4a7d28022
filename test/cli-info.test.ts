// `gpt2-lens info`: print(model) and the parameter counts, from config.json alone.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR } from './helpers/fixtures.js';
import { runCli } from './helpers/cli.js';
import { GPT2LMHeadModel, countParameters, type ModuleJson } from '../src/index.js';
import '../src/node/model.js';

test('info --model FOLDER prints the model\'s toString() and its parameter table', async () => {
  const r = runCli(['info', '--model', FIXTURE_DIR]);
  assert.equal(r.code, 0, r.stderr);
  const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  assert.equal(r.stdout, `${model.summary()}\n`);
  assert.ok(r.stdout.startsWith('GPT2LMHeadModel(\n  (transformer): GPT2Model(\n    (wte): Embedding(50257, 64)\n'));
  assert.match(r.stdout, /\ntotal +3,382,080\n$/);
});

test('info --model random:gpt2 --class GPT2Model --json: the 124M tree with shapes and counts, no weights built', () => {
  const r = runCli(['info', '--model', 'random:gpt2', '--class', 'GPT2Model', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { model: string; class: string; repr: string; parameters: number; tree: ModuleJson };
  assert.deepEqual(Object.keys(out), ['model', 'class', 'repr', 'parameters', 'tree']);
  assert.equal(out.class, 'GPT2Model');
  assert.equal(out.parameters, 124_439_808);
  assert.ok(out.repr.includes('\n  (h): ModuleList(\n    (0-11): 12 x GPT2Block(\n'));
  assert.equal(out.tree.children[3]!.children.length, 12);
  assert.deepEqual(out.tree.children[0], { name: 'wte', type: 'Embedding', repr: '50257, 768', parameters: [{ name: 'weight', shape: [50257, 768], count: 38_597_376 }], parameter_count: 38_597_376, children: [] });
  // the JSON's counts add up: the root's count is the sum of its children's
  assert.equal(out.tree.children.reduce((a, c) => a + c.parameter_count, 0), out.parameters);
});

test('info: a bad --class or a missing folder is a clear error', async () => {
  const bad = runCli(['info', '--class', 'GPT2Foo']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /argument 'GPT2Foo' is invalid\. Allowed choices are GPT2LMHeadModel, GPT2Model\./);
  const missing = runCli(['info', '--model', './no-such-folder']);
  assert.equal(missing.code, 1);
  assert.equal(missing.stderr.trim(), 'gpt2-lens: model folder ./no-such-folder does not exist');
  // the loaded model counts the same parameters
  assert.equal(countParameters((await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR)).weights), 3_382_080);
});
