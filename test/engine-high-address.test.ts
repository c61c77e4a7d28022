// Engine memory past 2 GiB (wasm32 allows 4 GiB: gpt2-large's fp32 weights alone take 3 GiB): byte addresses
// there do not fit an int32, so TypeScript that turns one into a float index must not use `>> 2`. The filler
// cache below pushes the engine's scratch and the model cache's mirror above 2 GiB; its pages are never touched,
// so they cost address space, not memory.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { GPT2LMHeadModel } from '../src/index.js';
import { engineLoader, WasmBackend } from '../src/engine/index.js';

const SPEC = 'random:64x2x4@7';
const IDS = [[464, 4583, 286, 262, 995, 13, 50256], [11, 318, 257, 1332, 286, 262, 995]];

test('above 2 GiB of engine memory: the last-position logits (num_logits_to_keep) and the KV cache written back equal the reference', async () => {
  const ref = await GPT2LMHeadModel.from_pretrained(SPEC);
  const fast = await GPT2LMHeadModel.from_pretrained(SPEC, { backendLoader: engineLoader() });
  const backend = fast.backend as WasmBackend;
  try {
    const filler = backend.engine.newCache(2100, 1024); // 2 × 2 layers × 2100 × 1024 × 64 floats: 2.1 GiB
    assert.ok(backend.engine.memory.buffer.byteLength > 2 ** 31, 'the engine memory is past 2 GiB');
    const want = await ref.forward({ input_ids: IDS, num_logits_to_keep: 1, use_cache: true });
    const got = await fast.forward({ input_ids: IDS, num_logits_to_keep: 1, use_cache: true });
    const close = (a: Float32Array, b: Float32Array, what: string): void => {
      assert.equal(a.length, b.length, what);
      let worst = 0;
      for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i]! - b[i]!));
      assert.ok(worst < 1e-4, `${what}: max |engine - reference| ${worst}`);
    };
    close(got.logits.data, want.logits.data, 'logits');
    const [pk, rk] = [got.past_key_values!, want.past_key_values!];
    assert.equal(pk.length, IDS[0]!.length);
    for (let l = 0; l < fast.config.n_layer; l++) {
      close(pk.keys[l]!, rk.keys[l]!, `keys of layer ${l}`);
      close(pk.values[l]!, rk.values[l]!, `values of layer ${l}`);
    }
    backend.engine.freeCache(filler);
  } finally {
    backend.dispose();
  }
});
