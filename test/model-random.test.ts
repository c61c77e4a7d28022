// random: models: exact shapes, determinism per seed, the label that says the weights are random.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPT2LMHeadModel, GPT2Model, AutoModelForCausalLM, parseRandomSpec, randomParameterCount, RANDOM_MAX_PARAMETERS } from '../src/index.js';

test('random:gpt2 has the exact 124M shape and HF\'s parameter count', async () => {
  const m = await GPT2LMHeadModel.from_pretrained('random:gpt2');
  const c = m.config;
  assert.deepEqual([c.n_embd, c.n_layer, c.n_head, c.n_positions, c.vocab_size, c.n_inner], [768, 12, 12, 1024, 50257, null]);
  assert.equal(m.num_parameters(), 124439808); // HF: GPT2LMHeadModel.from_pretrained('gpt2').num_parameters()
  assert.equal(m.is_random, true);
  assert.equal(m.description, 'random:gpt2 (RANDOM weights), 124M parameters, 12 layers × 12 heads × 768 wide');
  assert.equal(m.weights.h[11]!.mlp.c_fc.weight.length, 768 * 3072);
  // HF's init: N(0, 0.02) weights, residual projections N(0, 0.02/√24), zero biases, unit LayerNorm gains
  const std = (a: Float32Array) => Math.sqrt(a.reduce((s, x) => s + x * x, 0) / a.length);
  assert.ok(Math.abs(std(m.weights.h[0]!.attn.c_attn.weight) - 0.02) < 2e-4);
  assert.ok(Math.abs(std(m.weights.h[0]!.mlp.c_proj.weight) - 0.02 / Math.sqrt(24)) < 5e-5);
  assert.ok(m.weights.h[0]!.attn.c_attn.bias.every((x) => x === 0));
  assert.ok(m.weights.ln_f.weight.every((x) => x === 1));
});

test('random:EMBDxLAYERxHEAD[@SEED]: any shape, deterministic per seed', async () => {
  const a = await GPT2LMHeadModel.from_pretrained('random:32x2x4@7');
  const b = await AutoModelForCausalLM.from_pretrained('random:32x2x4@7');
  const c = await GPT2LMHeadModel.from_pretrained('random:32x2x4@8');
  const d = await GPT2Model.from_pretrained('random:32x2x4');
  assert.deepEqual([a.config.n_embd, a.config.n_layer, a.config.n_head, a.config.vocab_size], [32, 2, 4, 50257]);
  assert.deepEqual(a.weights.wte, b.weights.wte);
  assert.deepEqual(a.weights.h[1]!.mlp.c_proj.weight, b.weights.h[1]!.mlp.c_proj.weight);
  assert.notDeepEqual(a.weights.wte.subarray(0, 32), c.weights.wte.subarray(0, 32));
  assert.deepEqual(d.weights.wte, (await GPT2Model.from_pretrained('random:32x2x4@0')).weights.wte, 'the default seed is 0');
  assert.equal(a.description, 'random:32x2x4@7 (RANDOM weights), 2M parameters, 2 layers × 4 heads × 32 wide');
  const ids = [[464, 4583, 286]];
  assert.deepEqual(a.forwardSync({ input_ids: ids }).logits.data, b.forwardSync({ input_ids: ids }).logits.data);
  // first weights of seed 7 are pinned, so a change of the PRNG or the fill order is noticed
  assert.deepEqual(Array.from(a.weights.wte.subarray(0, 3)).map((x) => x.toFixed(6)), ['-0.045334', '-0.030771', '0.039874']);
});

test('bad random specs are clear errors', async () => {
  assert.deepEqual(parseRandomSpec('random:gpt2@42'), { n_embd: 768, n_layer: 12, n_head: 12, seed: 42 });
  assert.throws(() => parseRandomSpec('random:64x2'), { message: 'bad random model "random:64x2": expected random:gpt2[@SEED] or random:EMBDxLAYERxHEAD[@SEED], e.g. random:64x2x4@7' });
  assert.throws(() => parseRandomSpec('random:65x2x4'), { message: 'bad random model "random:65x2x4": EMBD 65 is not divisible by HEAD 4' });
  assert.throws(() => parseRandomSpec('random:0x2x4'), { message: 'bad random model "random:0x2x4": EMBD, LAYER and HEAD must be positive' });
  await assert.rejects(GPT2LMHeadModel.from_pretrained('random:gpt3'), { message: /^bad random model "random:gpt3"/ });
});

test('random: shapes above RANDOM_MAX_PARAMETERS are refused before anything is allocated, naming the count', async () => {
  // the count without building the model agrees with num_parameters() of the built one, and with HF's for GPT-2 XL
  const small = await GPT2LMHeadModel.from_pretrained('random:32x2x4@7');
  assert.equal(randomParameterCount(parseRandomSpec('random:32x2x4@7')), small.num_parameters());
  assert.equal(randomParameterCount(parseRandomSpec('random:gpt2')), 124439808);
  assert.equal(randomParameterCount(parseRandomSpec('random:1600x48x25')), 1557611200); // gpt2-xl's num_parameters()
  assert.equal(RANDOM_MAX_PARAMETERS, 2_000_000_000);
  const limit = 'above the limit of 2,000,000,000 for random models, which are built in memory (GPT-2 XL has 1,557,611,200)';
  assert.throws(() => parseRandomSpec('random:8x100000000x1'), {
    message: `bad random model "random:8x100000000x1": 87,200,410,264 parameters (348,801,641,056 bytes as float32), ${limit}`,
  });
  assert.throws(() => parseRandomSpec('random:20000x1x1'), {
    message: `bad random model "random:20000x1x1": 5,825,920,000 parameters (23,303,680,000 bytes as float32), ${limit}`,
  });
  assert.throws(() => parseRandomSpec('random:99999999999999999999x1x1'), {
    message: `bad random model "random:99999999999999999999x1x1": 1.20e+41 parameters (4.80e+41 bytes as float32), ${limit}`,
  });
  await assert.rejects(GPT2LMHeadModel.from_pretrained('random:8x100000000x1'), { message: /^bad random model "random:8x100000000x1": 87,200,410,264 parameters/ });
});
