// GPT-2 as an ONNX graph (opset 17), written from our weights, with the interface of Hugging Face optimum's
// decoder export that transformers.js loads (onnx/model.onnx):
//   inputs   input_ids [batch_size, sequence_length] int64, attention_mask [batch_size, total_sequence_length]
//            int64, position_ids [batch_size, sequence_length] int64,
//            past_key_values.{i}.key / .value [batch_size, n_head, past_sequence_length, head_dim] float
//   outputs  logits [batch_size, sequence_length, vocab_size] (every position),
//            present.{i}.key / .value [batch_size, n_head, total_sequence_length, head_dim]
// The math is HF's GPT2LMHeadModel (modeling_gpt2.py, eager attention): wte + wpe, per block ln_1 → c_attn →
// softmax(q kᵀ / √head_dim + mask) v → c_proj → residual, ln_2 → c_fc → gelu_new → c_proj → residual; ln_f;
// logits = h wteᵀ. Like optimum's export, the tied LM head is a MatMul with its own transposed copy of wte.
// Bench-only code (not part of the package).
import type { GPT2Config, GPT2Weights } from '../../src/model/types.js';
import { ProtoWriter } from './proto.js';
import { BOOL, FLOAT, INT64, model, node, tensor, valueInfo, type Graph } from './onnx.js';

/** The ModelProto of GPT-2 with these weights (the weights' bytes are referenced, not copied). */
export function gpt2Onnx(config: GPT2Config, weights: GPT2Weights): ProtoWriter {
  const C = config.n_embd;
  const H = config.n_head;
  const D = C / H;
  const V = config.vocab_size;
  const g: Graph = { name: 'gpt2', nodes: [], initializers: [], inputs: [], outputs: [] };
  let n = 0;
  /** adds a node; returns its first output's name */
  const op = (type: string, inputs: string[], attrs: Parameters<typeof node>[4] = {}, out?: string): string => {
    const o = out ?? `${type}_${n}`;
    g.nodes.push(node(type, inputs, [o], `${type}_${n++}`, attrs));
    return o;
  };
  const init = (name: string, dims: number[], data: Float32Array | BigInt64Array): string => {
    g.initializers.push(tensor(name, dims, data));
    return name;
  };
  const ints = (name: string, v: number[]): string => init(name, [v.length], BigInt64Array.from(v, BigInt));
  const scalar = (name: string, v: number): string => init(name, [], Float32Array.of(v));
  const intScalar = (name: string, v: number): string => init(name, [], BigInt64Array.of(BigInt(v)));

  g.inputs.push(valueInfo('input_ids', INT64, ['batch_size', 'sequence_length']));
  g.inputs.push(valueInfo('attention_mask', INT64, ['batch_size', 'total_sequence_length']));
  g.inputs.push(valueInfo('position_ids', INT64, ['batch_size', 'sequence_length']));
  for (let i = 0; i < config.n_layer; i++) {
    for (const kv of ['key', 'value']) g.inputs.push(valueInfo(`past_key_values.${i}.${kv}`, FLOAT, ['batch_size', H, 'past_sequence_length', D]));
  }
  g.outputs.push(valueInfo('logits', FLOAT, ['batch_size', 'sequence_length', V]));
  for (let i = 0; i < config.n_layer; i++) {
    for (const kv of ['key', 'value']) g.outputs.push(valueInfo(`present.${i}.${kv}`, FLOAT, ['batch_size', H, 'total_sequence_length', D]));
  }

  // constants
  const axis0 = ints('axes_0', [0]);
  const axis1 = ints('axes_1', [1]);
  const axes12 = ints('axes_1_2', [1, 2]);
  const zeroI = intScalar('zero_i64', 0);
  const oneI = intScalar('one_i64', 1);
  const heads = ints('shape_heads', [0, 0, H, D]); // Reshape: 0 copies that input dim
  const merged = ints('shape_merged', [0, 0, C]);
  const splitQKV = ints('split_qkv', [C, C, C]);
  const sqrtD = scalar('sqrt_head_dim', Math.sqrt(D));
  const zeroF = scalar('zero_f32', 0);
  const minF = scalar('finfo_min_f32', -3.4028234663852886e38); // torch.finfo(float32).min, HF's mask value
  const three = scalar('three', 3);
  const c0447 = scalar('gelu_c', 0.044715);
  const sqrt2pi = scalar('gelu_sqrt_2_over_pi', Math.sqrt(2 / Math.PI));
  const half = scalar('half', 0.5);
  const oneF = scalar('one_f32', 1);

  // embeddings: wte[input_ids] + wpe[position_ids]
  const wte = init('transformer.wte.weight', [V, C], weights.wte);
  const wpe = init('transformer.wpe.weight', [config.n_positions, C], weights.wpe);
  let x = op('Add', [op('Gather', [wte, 'input_ids']), op('Gather', [wpe, 'position_ids'])]);

  // the additive attention mask [B, 1, T, S]: 0 where key j may be seen from query i (j ≤ past + i and
  // attention_mask[b, j] = 1), finfo.min elsewhere
  const past = op('Shape', ['past_key_values.0.key'], { start: { int: 2 }, end: { int: 3 } });
  const T = op('Shape', ['input_ids'], { start: { int: 1 }, end: { int: 2 } });
  const S = op('Add', [past, T]);
  const pastS = op('Squeeze', [past, axis0]);
  const totalS = op('Squeeze', [S, axis0]);
  const qpos = op('Range', [pastS, totalS, oneI]); // [T]: past .. past + T - 1
  const kpos = op('Range', [zeroI, totalS, oneI]); // [S]
  const causal = op('LessOrEqual', [op('Unsqueeze', [kpos, axis0]), op('Unsqueeze', [qpos, axis1])]); // [T, S]
  const pad = op('Unsqueeze', [op('Cast', ['attention_mask'], { to: { int: BOOL } }), axes12]); // [B, 1, 1, S]
  const bias = op('Where', [op('And', [causal, pad]), zeroF, minF]); // [B, 1, T, S]

  const linear = (h: string, name: string, w: { weight: Float32Array; bias: Float32Array; nx: number; nf: number }): string =>
    op('Add', [op('MatMul', [h, init(`${name}.weight`, [w.nx, w.nf], w.weight)]), init(`${name}.bias`, [w.nf], w.bias)]);
  const layerNorm = (h: string, name: string, w: { weight: Float32Array; bias: Float32Array }): string =>
    op('LayerNormalization', [h, init(`${name}.weight`, [C], w.weight), init(`${name}.bias`, [C], w.bias)], { axis: { int: -1 }, epsilon: { float: config.layer_norm_epsilon } });

  weights.h.forEach((b, i) => {
    const p = `transformer.h.${i}`;
    const qkv = linear(layerNorm(x, `${p}.ln_1`, b.ln_1), `${p}.attn.c_attn`, b.attn.c_attn);
    const [q, k, v] = ['q', 'k', 'v'].map((s) => `${p}.attn.${s}`);
    g.nodes.push(node('Split', [qkv, splitQKV], [q!, k!, v!], `Split_${n++}`, { axis: { int: 2 } }));
    const toHeads = (t: string): string => op('Transpose', [op('Reshape', [t, heads])], { perm: { ints: [0, 2, 1, 3] } }); // [B, H, T, D]
    const keys = op('Concat', [`past_key_values.${i}.key`, toHeads(k!)], { axis: { int: 2 } }, `present.${i}.key`);
    const values = op('Concat', [`past_key_values.${i}.value`, toHeads(v!)], { axis: { int: 2 } }, `present.${i}.value`);
    const scores = op('Div', [op('MatMul', [toHeads(q!), op('Transpose', [keys], { perm: { ints: [0, 1, 3, 2] } })]), sqrtD]);
    const probs = op('Softmax', [op('Add', [scores, bias])], { axis: { int: -1 } });
    const ctx = op('Reshape', [op('Transpose', [op('MatMul', [probs, values])], { perm: { ints: [0, 2, 1, 3] } }), merged]);
    x = op('Add', [x, linear(ctx, `${p}.attn.c_proj`, b.attn.c_proj)]);
    const f = linear(layerNorm(x, `${p}.ln_2`, b.ln_2), `${p}.mlp.c_fc`, b.mlp.c_fc);
    // gelu_new: 0.5 · f · (1 + tanh(√(2/π) · (f + 0.044715 · f³)))
    const inner = op('Mul', [op('Add', [f, op('Mul', [op('Pow', [f, three]), c0447])]), sqrt2pi]);
    const act = op('Mul', [op('Mul', [f, half]), op('Add', [op('Tanh', [inner]), oneF])]);
    x = op('Add', [x, linear(act, `${p}.mlp.c_proj`, b.mlp.c_proj)]);
  });
  const hf = layerNorm(x, 'transformer.ln_f', weights.ln_f);
  const head = weights.lm_head ?? weights.wte;
  const headT = new Float32Array(C * V); // [C, V]
  for (let v = 0; v < V; v++) for (let c = 0; c < C; c++) headT[c * V + v] = head[v * C + c]!;
  op('MatMul', [hf, init('lm_head.weight_transposed', [C, V], headT)], {}, 'logits');
  return model(g, 17, 'gpt2-lens bench');
}

/** HF's config.json for the model (what transformers.js reads: model_type gpt2 and the shape). */
export function hfConfigJson(config: GPT2Config): Record<string, unknown> {
  return { ...config, architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', transformers_version: '4.43.0' };
}
