// GPT2Config from config.json: HF's defaults for missing fields, and a clear error naming each unsupported field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readGolden } from './helpers/fixtures.js';
import { GPT2_DEFAULTS, parseConfig, innerDim, headDim } from '../src/index.js';

test('an empty config.json gets HF GPT2Config() defaults (the 124M model)', () => {
  const c = parseConfig({});
  assert.deepEqual(c, {
    model_type: 'gpt2', vocab_size: 50257, n_positions: 1024, n_embd: 768, n_layer: 12, n_head: 12, n_inner: null,
    activation_function: 'gelu_new', layer_norm_epsilon: 1e-5, embd_pdrop: 0.1, attn_pdrop: 0.1, resid_pdrop: 0.1, scale_attn_weights: true, tie_word_embeddings: true,
    bos_token_id: 50256, eos_token_id: 50256, use_cache: true,
  });
  assert.deepEqual(c, { ...GPT2_DEFAULTS });
  assert.equal(innerDim(c), 3072);
  assert.equal(headDim(c), 64);
});

test('the fixture config.json (and its extra HF fields such as dropout and summary_*) parses', () => {
  const c = parseConfig(readGolden('config.json'));
  assert.equal(c.n_embd, 64);
  assert.equal(c.n_layer, 2);
  assert.equal(c.n_head, 4);
  assert.equal(innerDim(c), 256);
  assert.equal(parseConfig({ n_embd: 64, n_head: 4, n_inner: 100 }).n_inner, 100);
});

test('unsupported settings name the field', () => {
  const cases: Array<[object, string]> = [
    [{ activation_function: 'relu' }, 'config.json: activation_function "relu" is not supported (gpt2-lens implements "gelu_new", GPT-2\'s tanh GELU)'],
    [{ add_cross_attention: true }, 'config.json: add_cross_attention true is not supported (cross-attention (encoder-decoder use) is not implemented)'],
    [{ scale_attn_by_inverse_layer_idx: true }, 'config.json: scale_attn_by_inverse_layer_idx true is not supported (scaling attention by 1/(layer_idx+1) is not implemented)'],
    [{ reorder_and_upcast_attn: true }, 'config.json: reorder_and_upcast_attn true is not supported (the reordered, upcast attention of Mistral/Stanford GPT-2 is not implemented)'],
    [{ model_type: 'llama' }, 'config.json: model_type "llama" is not supported (gpt2-lens runs model_type "gpt2" only)'],
    [{ pruned_heads: { 0: [1] } }, 'config.json: pruned_heads is not supported (every layer must have n_head heads)'],
    [{ n_embd: 100, n_head: 12 }, 'config.json: n_embd 100 is not divisible by n_head 12'],
    [{ n_layer: 0 }, 'config.json: n_layer must be a positive integer, got 0'],
    [{ vocab_size: '50257' }, 'config.json: vocab_size must be a positive integer, got "50257"'],
    [{ n_inner: -1 }, 'config.json: n_inner must be null or a positive integer, got -1'],
    [{ layer_norm_epsilon: 0 }, 'config.json: layer_norm_epsilon must be a positive number, got 0'],
    [{ attn_pdrop: 1.5 }, 'config.json: attn_pdrop must be a probability between 0 and 1, got 1.5'],
    [{ use_cache: 'yes' }, 'config.json: use_cache must be true or false, got "yes"'],
    [{ eos_token_id: [50256, 1] }, 'config.json: eos_token_id must be a token id (a non-negative integer), got [50256,1]'],
  ];
  for (const [raw, message] of cases) assert.throws(() => parseConfig(raw), { name: 'ConfigError', message }, JSON.stringify(raw));
  assert.throws(() => parseConfig([1]), { message: 'config.json must hold a JSON object, got an array' });
  // the accepted values of those fields are fine
  assert.equal(parseConfig({ add_cross_attention: false, reorder_and_upcast_attn: false, scale_attn_by_inverse_layer_idx: false, pruned_heads: {} }).n_layer, 12);
  assert.equal(parseConfig({ scale_attn_weights: false, tie_word_embeddings: false }).scale_attn_weights, false);
});
