// print(model) and print(tensor) as PyTorch prints them. The expected strings are written out from PyTorch's
// rules (torch/nn/modules/module.py + container.py for modules, torch/_tensor_str.py for tensors), not produced by
// this code; the 124M tree is built from GPT2Config() alone, without allocating its weights.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR, readGolden } from './helpers/fixtures.js';
import {
  GPT2_DEFAULTS,
  GPT2LMHeadModel,
  GPT2Model,
  countParameters,
  formatSize,
  formatTensor,
  moduleJson,
  moduleRepr,
  moduleTree,
  parameterCount,
  parameterTable,
  parseConfig,
  pyExponential,
  pyFixed,
  pyFloatRepr,
  type GPT2Config,
  type Tensor,
} from '../src/index.js';
import '../src/node/model.js';

const GPT2_LM_HEAD_MODEL_124M = `GPT2LMHeadModel(
  (transformer): GPT2Model(
    (wte): Embedding(50257, 768)
    (wpe): Embedding(1024, 768)
    (drop): Dropout(p=0.1, inplace=False)
    (h): ModuleList(
      (0-11): 12 x GPT2Block(
        (ln_1): LayerNorm((768,), eps=1e-05, elementwise_affine=True)
        (attn): GPT2Attention(
          (c_attn): Conv1D(nf=2304, nx=768)
          (c_proj): Conv1D(nf=768, nx=768)
          (attn_dropout): Dropout(p=0.1, inplace=False)
          (resid_dropout): Dropout(p=0.1, inplace=False)
        )
        (ln_2): LayerNorm((768,), eps=1e-05, elementwise_affine=True)
        (mlp): GPT2MLP(
          (c_fc): Conv1D(nf=3072, nx=768)
          (c_proj): Conv1D(nf=768, nx=3072)
          (act): NewGELUActivation()
          (dropout): Dropout(p=0.1, inplace=False)
        )
      )
    )
    (ln_f): LayerNorm((768,), eps=1e-05, elementwise_affine=True)
  )
  (lm_head): Linear(in_features=768, out_features=50257, bias=False)
)`;

const GPT2_MODEL_FIXTURE = `GPT2Model(
  (wte): Embedding(50257, 64)
  (wpe): Embedding(1024, 64)
  (drop): Dropout(p=0.1, inplace=False)
  (h): ModuleList(
    (0-1): 2 x GPT2Block(
      (ln_1): LayerNorm((64,), eps=1e-05, elementwise_affine=True)
      (attn): GPT2Attention(
        (c_attn): Conv1D(nf=192, nx=64)
        (c_proj): Conv1D(nf=64, nx=64)
        (attn_dropout): Dropout(p=0.1, inplace=False)
        (resid_dropout): Dropout(p=0.1, inplace=False)
      )
      (ln_2): LayerNorm((64,), eps=1e-05, elementwise_affine=True)
      (mlp): GPT2MLP(
        (c_fc): Conv1D(nf=256, nx=64)
        (c_proj): Conv1D(nf=64, nx=256)
        (act): NewGELUActivation()
        (dropout): Dropout(p=0.1, inplace=False)
      )
    )
  )
  (ln_f): LayerNorm((64,), eps=1e-05, elementwise_affine=True)
)`;

const PARAMS_124M = `module                     parameters
transformer               124,439,808
  wte                      38,597,376
  wpe                         786,432
  h                        85,054,464
    0-11: 12 x GPT2Block    7,087,872  each
      ln_1                      1,536
      attn                  2,362,368
        c_attn              1,771,776
        c_proj                590,592
      ln_2                      1,536
      mlp                   4,722,432
        c_fc                2,362,368
        c_proj              2,360,064
  ln_f                          1,536
lm_head                    38,597,376  = transformer.wte.weight (tied: counted once)
total                     124,439,808`;

test('print(GPT2LMHeadModel) for GPT-2 124M (GPT2Config() defaults), and its GPT2Model under (transformer)', () => {
  const config: GPT2Config = { ...GPT2_DEFAULTS };
  assert.equal(moduleRepr(moduleTree(config, 'GPT2LMHeadModel')), GPT2_LM_HEAD_MODEL_124M);
  // GPT2Model's printout is the (transformer) entry, un-indented
  const inner = GPT2_LM_HEAD_MODEL_124M.split('\n').slice(1, -2).map((l) => l.slice(2)).join('\n').replace('(transformer): ', '');
  assert.equal(moduleRepr(moduleTree(config, 'GPT2Model')), inner);
});

test('parameter counts of GPT-2 124M: per module and HF\'s 124,439,808 in total (the tied head counted once)', () => {
  const tree = moduleTree({ ...GPT2_DEFAULTS }, 'GPT2LMHeadModel');
  assert.equal(parameterTable(tree), PARAMS_124M);
  assert.equal(parameterCount(tree), 124_439_808);
  // an untied head adds its own 50257 x 768
  assert.equal(parameterCount(moduleTree({ ...GPT2_DEFAULTS, tie_word_embeddings: false }, 'GPT2LMHeadModel')), 124_439_808 + 50257 * 768);
  assert.equal(parameterCount(moduleTree({ ...GPT2_DEFAULTS }, 'GPT2Model')), 124_439_808);
});

test('model.toString() on the fixture model: the exact tree; summary() adds the counts, which match the weights', async () => {
  const base = await GPT2Model.from_pretrained(FIXTURE_DIR);
  assert.equal(base.toString(), GPT2_MODEL_FIXTURE);
  assert.equal(String(base), GPT2_MODEL_FIXTURE);
  const lm = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  const expected = `GPT2LMHeadModel(\n  (transformer): ${GPT2_MODEL_FIXTURE.split('\n').join('\n  ')}\n  (lm_head): Linear(in_features=64, out_features=50257, bias=False)\n)`;
  assert.equal(lm.toString(), expected);
  assert.equal(parameterCount(lm.moduleTree()), countParameters(lm.weights));
  const summary = lm.summary();
  assert.ok(summary.startsWith(`${expected}\n\nmodule `));
  assert.match(summary, /\n {4}0-1: 2 x GPT2Block +\d[\d,]* {2}each\n/);
  assert.equal(countParameters(lm.weights), 3_382_080); // 50257·64 + 1024·64 + 2·49,984 + 128
  assert.match(summary.split('\n').pop()!, /^total +3,382,080$/);
});

test('a single block is not folded; config values reach the printout (eps, dropout p, n_inner)', () => {
  const config = parseConfig({ n_embd: 8, n_head: 2, n_layer: 1, n_positions: 16, vocab_size: 10, layer_norm_epsilon: 1e-6, attn_pdrop: 0, resid_pdrop: 0.25, embd_pdrop: 0.5, n_inner: 12 });
  assert.equal(moduleRepr(moduleTree(config, 'GPT2Model')), `GPT2Model(
  (wte): Embedding(10, 8)
  (wpe): Embedding(16, 8)
  (drop): Dropout(p=0.5, inplace=False)
  (h): ModuleList(
    (0): GPT2Block(
      (ln_1): LayerNorm((8,), eps=1e-06, elementwise_affine=True)
      (attn): GPT2Attention(
        (c_attn): Conv1D(nf=24, nx=8)
        (c_proj): Conv1D(nf=8, nx=8)
        (attn_dropout): Dropout(p=0.0, inplace=False)
        (resid_dropout): Dropout(p=0.25, inplace=False)
      )
      (ln_2): LayerNorm((8,), eps=1e-06, elementwise_affine=True)
      (mlp): GPT2MLP(
        (c_fc): Conv1D(nf=12, nx=8)
        (c_proj): Conv1D(nf=8, nx=12)
        (act): NewGELUActivation()
        (dropout): Dropout(p=0.25, inplace=False)
      )
    )
  )
  (ln_f): LayerNorm((8,), eps=1e-06, elementwise_affine=True)
)`);
});

test('moduleJson: every module with its parameters\' shapes and counts', () => {
  const j = moduleJson(moduleTree(parseConfig(readGolden('config.json')), 'GPT2LMHeadModel'));
  assert.equal(j.type, 'GPT2LMHeadModel');
  assert.equal(j.parameter_count, 3_382_080);
  assert.equal(j.children[0]!.parameter_count, 3_382_080);
  const t = j.children[0]!;
  assert.deepEqual(t.children.map((c) => c.name), ['wte', 'wpe', 'drop', 'h', 'ln_f']);
  assert.equal(t.children[3]!.children.length, 2);
  const c_attn = t.children[3]!.children[1]!.children[1]!.children[0]!;
  assert.deepEqual(c_attn, { name: 'c_attn', type: 'Conv1D', repr: 'nf=192, nx=64', parameters: [{ name: 'weight', shape: [64, 192], count: 12288 }, { name: 'bias', shape: [192], count: 192 }], parameter_count: 12480, children: [] });
  assert.deepEqual(j.children[1]!.parameters, [{ name: 'weight', shape: [50257, 64], count: 50257 * 64, tied_to: 'transformer.wte.weight' }]);
  assert.equal(j.children[1]!.parameter_count, 0);
});

// ---- tensors ----

const f32 = (values: number[], dims: number[]): Tensor => ({ data: Float32Array.from(values), dims });

test('formatSize prints torch.Size', () => {
  assert.equal(formatSize([1, 5, 768]), 'torch.Size([1, 5, 768])');
  assert.equal(formatSize([]), 'torch.Size([])');
});

test('Python float formatting: ties to even on the exact binary value, repr\'s shortest digits', () => {
  assert.equal(pyFixed(0.03125, 4), '0.0312'); // exact tie → even (toFixed gives 0.0313)
  assert.equal(pyFixed(0.09375, 4), '0.0938');
  assert.equal(pyFixed(-0.04700000211596489, 4), '-0.0470');
  assert.equal(pyFixed(2.5, 0), '2');
  assert.equal(pyFixed(-0, 4), '-0.0000');
  assert.equal(pyExponential(1e-5, 4), '1.0000e-05');
  assert.equal(pyExponential(9.99996, 4), '1.0000e+01');
  assert.equal(pyExponential(-123456789, 4), '-1.2346e+08');
  assert.equal(pyExponential(1e100, 2), '1.00e+100');
  for (const [x, s] of [[1e-5, '1e-05'], [0.1, '0.1'], [1, '1.0'], [0, '0.0'], [1e16, '1e+16'], [123.456, '123.456'], [0.0001, '0.0001'], [1.5e-7, '1.5e-07'], [1e15, '1000000000000000.0']] as const) {
    assert.equal(pyFloatRepr(x), s, `repr(${x})`);
  }
});

test('formatTensor: fixed, integer and scientific modes, alignment, nan/inf, scalars', () => {
  assert.equal(formatTensor(f32([0.1, 0.2, 0.3, 0.4, 0.5, 0.6], [2, 3])), 'tensor([[0.1000, 0.2000, 0.3000],\n        [0.4000, 0.5000, 0.6000]])');
  assert.equal(formatTensor(f32([1, 2, 3], [3])), 'tensor([1., 2., 3.])');
  assert.equal(formatTensor(f32([0, 0, 0], [3])), 'tensor([0., 0., 0.])');
  assert.equal(formatTensor(f32([1, NaN, Infinity], [3])), 'tensor([1., nan, inf])');
  assert.equal(formatTensor(f32([1e-5, 1], [2])), 'tensor([1.0000e-05, 1.0000e+00])');
  assert.equal(formatTensor(f32([1e9, 1], [2])), 'tensor([1.0000e+09, 1.0000e+00])');
  assert.equal(formatTensor(f32([1.5, -2.25], [2])), 'tensor([ 1.5000, -2.2500])');
  assert.equal(formatTensor(f32([100.5, -1.25], [2])), 'tensor([100.5000,  -1.2500])');
  assert.equal(formatTensor(f32([0.03125, 1], [2])), 'tensor([0.0312, 1.0000])');
  assert.equal(formatTensor(f32([0.381], [])), 'tensor(0.3810)');
  assert.equal(formatTensor(f32([0, 0, 0, 0], [2, 1, 2])), 'tensor([[[0., 0.]],\n\n        [[0., 0.]]])');
  assert.equal(formatTensor(f32([], [0])), 'tensor([])');
  assert.equal(formatTensor(f32([], [0, 5])), 'tensor([], size=(0, 5))');
  assert.throws(() => formatTensor(f32([1, 2], [3])), /formatTensor: dims \[3\] hold 3 elements but data has 2/);
});

test('formatTensor wraps rows at 80 columns: 9 entries of width 6 per line after "tensor(["', () => {
  const t = f32(Array.from({ length: 30 }, (_, i) => i / 10), [30]);
  const row = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => ((from + i) / 10).toFixed(4)).join(', ');
  assert.equal(formatTensor(t), `tensor([${row(0, 9)},\n        ${row(9, 18)},\n        ${row(18, 27)},\n        ${row(27, 30)}])`);
});

test('formatTensor summarises past 1000 elements: 3 items, "...", 3 items per long dimension', () => {
  assert.equal(formatTensor(f32(new Array(2000).fill(0.5), [2000])), 'tensor([0.5000, 0.5000, 0.5000,  ..., 0.5000, 0.5000, 0.5000])');
  const row = '[1., 1., 1.,  ..., 1., 1., 1.]';
  const rows = [row, row, row, '...', row, row, row].join(',\n        ');
  assert.equal(formatTensor(f32(new Array(2000).fill(1), [10, 200])), `tensor([${rows}])`);
  // 1000 elements exactly: not summarised
  assert.ok(!formatTensor(f32(new Array(1000).fill(1), [1000])).includes('...'));
});

test('the notebook\'s last_hidden_state: [1, 5, 768] printed as tensor([[[-0.0470, -0.0333, -0.1626,  ..., -0.1337, -0.0571, -0.1059], ...]])', () => {
  const rows = [
    [-0.047, -0.0333, -0.1626, -0.1337, -0.0571, -0.1059],
    [0.0234, -0.1938, 0.2291, 0.1254, -0.2041, 0.0187],
    [-0.2512, 0.1133, 0.0392, -0.0125, 0.2714, 0.1409],
    [0.0861, -0.0977, -0.3075, 0.4018, -0.2873, -0.1182],
    [-0.0611, 0.0718, -0.1744, 0.0302, -0.1268, 0.2255],
  ];
  const data = new Float32Array(5 * 768).fill(-9); // the middle entries are never printed, nor shape the format
  rows.forEach((r, t) => {
    data.set(r.slice(0, 3), t * 768);
    data.set(r.slice(3), t * 768 + 765);
  });
  const fmt = (x: number) => pyFixed(Math.fround(x), 4).padStart(7);
  const line = (r: number[]) => `[${r.slice(0, 3).map(fmt).join(', ')},  ..., ${r.slice(3).map(fmt).join(', ')}]`;
  const expected = `tensor([[${rows.map(line).join(',\n         ')}]])`;
  assert.equal(formatTensor({ data, dims: [1, 5, 768] }), expected);
  assert.ok(expected.startsWith('tensor([[[-0.0470, -0.0333, -0.1626,  ..., -0.1337, -0.0571, -0.1059],\n         [ 0.0234, -0.1938,  0.2291,  ...,  0.1254, -0.2041,  0.0187],'));
});
