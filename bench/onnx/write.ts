// Writes a model folder that onnxruntime-node and transformers.js (env.localModelPath) load:
//   DIR/config.json, DIR/generation_config.json, DIR/onnx/model.onnx
// Bench-only code (a Node adapter: files).
import { closeSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { GPT2Config, GPT2Weights } from '../../src/model/types.js';
import { gpt2Onnx, hfConfigJson } from './gpt2.js';

/** Writes the folder; returns model.onnx's size in bytes. */
export function writeOnnxModel(dir: string, config: GPT2Config, weights: GPT2Weights): number {
  mkdirSync(join(dir, 'onnx'), { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify(hfConfigJson(config), null, 2));
  writeFileSync(join(dir, 'generation_config.json'), JSON.stringify({ bos_token_id: config.bos_token_id, eos_token_id: config.eos_token_id }, null, 2));
  const parts = gpt2Onnx(config, weights).finish();
  const path = join(dir, 'onnx', 'model.onnx');
  const fd = openSync(`${path}.partial`, 'w');
  let bytes = 0;
  try {
    for (const p of parts) {
      for (let off = 0; off < p.length; ) off += writeSync(fd, p, off, p.length - off);
      bytes += p.length;
    }
  } finally {
    closeSync(fd);
  }
  renameSync(`${path}.partial`, path); // a half-written file is never taken for a model
  return bytes;
}
