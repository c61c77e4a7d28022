// Captured activations as JSON (src/model/captures.ts): against HF's goldens where HF gives them (embeddings =
// hidden_states[0], each block's output, ln_f's output, the attention patterns), against an independent float64
// recomputation from the weights everywhere else (ln_1, q/k/v, scores, z, c_proj, ln_2, c_fc, gelu_new, the MLP), and
// the same JSON from /api/forward {capture} and `gpt2-lens forward --capture --json`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import '../src/node/model.js';
import { captureActivations, CaptureError, GPT2LMHeadModel, hookNames, MAX_CAPTURE_FLOATS, type CaptureJson } from '../src/model/index.js';
import { AutoTokenizer } from '../src/node/tokenizer.js';
import { createServer, type ExplorerServer } from '../src/server/index.js';
import type { ForwardResponse } from '../src/server/types.js';
import { FIXTURE_DIR, assertClose, flat, readGolden } from './helpers/fixtures.js';
import { runTsx, CLI_MAIN } from './helpers/cli.js';

interface ForwardCase {
  text: string;
  input_ids: number[];
  hidden_states: number[][][];
  attentions: number[][][][];
}
const golden = readGolden<{ cases: ForwardCase[] }>('golden-forward.json');
const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
const { n_layer, n_head, n_embd: C } = model.config;
const D = C / n_head;
const HS = { atol: 1e-5, rtol: 1e-4 };

let server: ExplorerServer;
let base: string;
before(async () => {
  const tokenizer = await AutoTokenizer.from_pretrained(FIXTURE_DIR);
  server = createServer({ model, tokenizer, modelName: 'gpt2-tiny' });
  base = (await server.listen(0)).url;
});
after(async () => server?.close());

const data = (c: CaptureJson | undefined): Float64Array => Float64Array.from(c!.data);

test('every golden case: captures equal HF hidden_states and attentions, with the batch dimension dropped', async () => {
  let checked = 0;
  for (const c of golden.cases) {
    const T = c.input_ids.length;
    const names = ['hook_embed', 'hook_pos_embed', 'ln_final.hook_normalized'];
    for (let i = 0; i < n_layer; i++) names.push(`blocks.${i}.hook_resid_pre`, `blocks.${i}.hook_resid_post`, `blocks.${i}.attn.hook_pattern`);
    const cap = await captureActivations(model, c.input_ids, names);
    assert.deepEqual(Object.keys(cap), names);
    assert.deepEqual(cap['hook_embed']!.dims, [T, C]);
    // hidden_states[0] = wte[ids] + wpe[positions]
    const emb = cap['hook_embed']!.data.map((x, j) => x + cap['hook_pos_embed']!.data[j]!);
    assertClose(`${c.text}: embed + pos_embed`, emb, flat(c.hidden_states[0]), HS);
    assertClose(`${c.text}: blocks.0.hook_resid_pre`, data(cap['blocks.0.hook_resid_pre']), flat(c.hidden_states[0]), HS);
    // HF's last hidden state is ln_f's output, not the last block's
    for (let i = 0; i + 1 < n_layer; i++) assertClose(`${c.text}: blocks.${i}.hook_resid_post`, data(cap[`blocks.${i}.hook_resid_post`]), flat(c.hidden_states[i + 1]), HS);
    assertClose(`${c.text}: ln_final`, data(cap['ln_final.hook_normalized']), flat(c.hidden_states[n_layer]), HS);
    for (let i = 0; i < n_layer; i++) {
      assert.deepEqual(cap[`blocks.${i}.attn.hook_pattern`]!.dims, [n_head, T, T]);
      assertClose(`${c.text}: blocks.${i}.attn.hook_pattern`, data(cap[`blocks.${i}.attn.hook_pattern`]), flat(c.attentions[i]), HS);
    }
    checked++;
  }
  assert.equal(checked, 6);
});

/** x [M, K] @ w [K, N] + b, in float64 (Conv1D: weight stored [in, out]). */
function conv1d(x: ArrayLike<number>, M: number, w: { weight: Float32Array; bias: Float32Array; nx: number; nf: number }): Float64Array {
  const out = new Float64Array(M * w.nf);
  for (let m = 0; m < M; m++)
    for (let n = 0; n < w.nf; n++) {
      let s = w.bias[n]!;
      for (let k = 0; k < w.nx; k++) s += x[m * w.nx + k]! * w.weight[k * w.nf + n]!;
      out[m * w.nf + n] = s;
    }
  return out;
}
function layerNorm64(x: ArrayLike<number>, M: number, ln: { weight: Float32Array; bias: Float32Array }): Float64Array {
  const out = new Float64Array(M * C);
  for (let m = 0; m < M; m++) {
    let mean = 0;
    for (let k = 0; k < C; k++) mean += x[m * C + k]!;
    mean /= C;
    let v = 0;
    for (let k = 0; k < C; k++) v += (x[m * C + k]! - mean) ** 2;
    v /= C; // biased variance, as torch's LayerNorm
    for (let k = 0; k < C; k++) out[m * C + k] = ((x[m * C + k]! - mean) / Math.sqrt(v + 1e-5)) * ln.weight[k]! + ln.bias[k]!;
  }
  return out;
}
const gelu = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

test('the other hooks equal an independent float64 recomputation from the weights (every block, one golden case)', async () => {
  const c = golden.cases[0]!;
  const T = c.input_ids.length;
  const all = hookNames(model.config);
  const cap = await captureActivations(model, c.input_ids, all);
  assert.equal(Object.keys(cap).length, 2 + 15 * n_layer + 1);
  const close = (name: string, want: ArrayLike<number>): void => void assertClose(name, data(cap[name]), want, HS);
  for (let i = 0; i < n_layer; i++) {
    const w = model.weights.h[i]!;
    const p = `blocks.${i}.`;
    const pre = cap[`${p}hook_resid_pre`]!.data;
    const ln1 = layerNorm64(pre, T, w.ln_1);
    close(`${p}ln1.hook_normalized`, ln1);
    const qkv = conv1d(cap[`${p}ln1.hook_normalized`]!.data, T, w.attn.c_attn); // [T, 3C], columns [q | k | v]
    for (const [j, n] of ['q', 'k', 'v'].entries()) {
      assert.deepEqual(cap[`${p}attn.hook_${n}`]!.dims, [T, n_head, D]);
      close(`${p}attn.hook_${n}`, Array.from({ length: T * C }, (_, e) => qkv[Math.floor(e / C) * 3 * C + j * C + (e % C)]!));
    }
    const q = cap[`${p}attn.hook_q`]!.data;
    const k = cap[`${p}attn.hook_k`]!.data;
    const v = cap[`${p}attn.hook_v`]!.data;
    const scores = new Float64Array(n_head * T * T);
    const pattern = new Float64Array(n_head * T * T);
    const z = new Float64Array(T * C);
    for (let h = 0; h < n_head; h++)
      for (let t = 0; t < T; t++) {
        const row = (h * T + t) * T;
        for (let s = 0; s < T; s++) {
          let dot = 0;
          for (let d = 0; d < D; d++) dot += q[t * C + h * D + d]! * k[s * C + h * D + d]!;
          scores[row + s] = s <= t ? dot / Math.sqrt(D) : -3.4028234663852886e38; // the causal mask: float32 min
        }
        let max = -Infinity;
        for (let s = 0; s <= t; s++) max = Math.max(max, scores[row + s]!);
        let sum = 0;
        for (let s = 0; s <= t; s++) sum += Math.exp(scores[row + s]! - max);
        for (let s = 0; s <= t; s++) pattern[row + s] = Math.exp(scores[row + s]! - max) / sum;
        for (let s = 0; s <= t; s++) for (let d = 0; d < D; d++) z[t * C + h * D + d] += pattern[row + s]! * v[s * C + h * D + d]!;
      }
    close(`${p}attn.hook_attn_scores`, scores);
    close(`${p}attn.hook_pattern`, pattern);
    close(`${p}attn.hook_z`, z);
    const attnOut = conv1d(cap[`${p}attn.hook_z`]!.data, T, w.attn.c_proj);
    close(`${p}hook_attn_out`, attnOut);
    close(`${p}hook_resid_mid`, pre.map((x, e) => x + cap[`${p}hook_attn_out`]!.data[e]!));
    close(`${p}ln2.hook_normalized`, layerNorm64(cap[`${p}hook_resid_mid`]!.data, T, w.ln_2));
    close(`${p}mlp.hook_pre`, conv1d(cap[`${p}ln2.hook_normalized`]!.data, T, w.mlp.c_fc));
    close(`${p}mlp.hook_post`, cap[`${p}mlp.hook_pre`]!.data.map(gelu));
    close(`${p}hook_mlp_out`, conv1d(cap[`${p}mlp.hook_post`]!.data, T, w.mlp.c_proj));
    close(`${p}hook_resid_post`, cap[`${p}hook_resid_mid`]!.data.map((x, e) => x + cap[`${p}hook_mlp_out`]!.data[e]!));
  }
  close('ln_final.hook_normalized', layerNorm64(cap[`blocks.${n_layer - 1}.hook_resid_post`]!.data, T, model.weights.ln_f));
  close('hook_embed', Array.from({ length: T * C }, (_, e) => model.weights.wte[c.input_ids[Math.floor(e / C)]! * C + (e % C)]!));
  close('hook_pos_embed', model.weights.wpe.subarray(0, T * C));
});

test('a request over the float limit fails before the forward pass, naming the total and the limit; unknown names list the forms', async () => {
  const ids = golden.cases[0]!.input_ids; // 5 tokens: mlp.hook_pre is 5 x 256 = 1280 floats
  await assert.rejects(captureActivations(model, ids, ['blocks.0.mlp.hook_pre', 'hook_embed'], 1500), {
    name: 'CaptureError',
    message: 'the captures hold 1600 floats for 5 tokens, above the limit of 1500: ask for fewer hooks or a shorter prompt',
  });
  await assert.rejects(captureActivations(model, ids, ['blocks.2.hook_resid_post']), (err: unknown) => {
    assert.ok(err instanceof CaptureError);
    assert.match(err.message, /^unknown hook name "blocks\.2\.hook_resid_post": expected one of hook_embed, hook_pos_embed, ln_final\.hook_normalized or blocks\.\{0\.\.1\}\./);
    return true;
  });
  assert.equal(MAX_CAPTURE_FLOATS, 4_194_304);
});

async function post(body: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(new URL('/api/forward', base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, json: await res.json() };
}

test('/api/forward {capture} returns captures[name]; its errors are 400s on "capture"', async () => {
  const names = ['hook_embed', 'blocks.1.attn.hook_q', 'blocks.0.attn.hook_attn_scores', 'blocks.0.mlp.hook_pre'];
  const r = await post({ text: 'The theory of relativity is', capture: names, attentions: false, lens: false });
  assert.equal(r.status, 200);
  const body = r.json as ForwardResponse;
  assert.deepEqual(Object.keys(body), ['input_ids', 'tokens', 'captures']);
  assert.deepEqual(Object.keys(body.captures!), names);
  assert.deepEqual(body.captures!['blocks.1.attn.hook_q']!.dims, [5, 4, 16]);
  assert.deepEqual(body.captures!['blocks.0.attn.hook_attn_scores']!.dims, [4, 5, 5]);
  assert.equal(body.captures!['blocks.0.attn.hook_attn_scores']!.data[1], -3.4028234663852886e38, 'a masked score is float32 min, as HF');
  assert.deepEqual(body.captures, await captureActivations(model, body.input_ids, names));

  const bad = await post({ text: 'Hi', capture: ['hook_nothing'] });
  assert.equal(bad.status, 400);
  assert.equal((bad.json as { error: { param: string } }).error.param, 'capture');
  assert.match((bad.json as { error: { message: string } }).error.message, /^unknown hook name "hook_nothing"/);
  const notStrings = await post({ text: 'Hi', capture: [3] });
  assert.deepEqual(notStrings.json, { error: { message: '"capture[0]" must be a string, got 3', param: 'capture' } });
});

test('gpt2-lens forward --capture --json prints the API JSON', async () => {
  const names = ['hook_pos_embed', 'blocks.0.attn.hook_pattern', 'ln_final.hook_normalized'];
  const cli = await runTsx([CLI_MAIN, 'forward', 'The theory of relativity is', '--capture', ...names, '--model', FIXTURE_DIR, '--json']);
  assert.equal(cli.code, 0, cli.stderr);
  const api = await post({ text: 'The theory of relativity is', capture: names, attentions: false, lens: false });
  assert.deepEqual(JSON.parse(cli.stdout), api.json);
  const bad = await runTsx([CLI_MAIN, 'forward', 'Hi', '--model', FIXTURE_DIR]);
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr, 'gpt2-lens: give at least one hook name with --capture (see gpt2-lens forward --help)\n');
});
