// Head lists as people type them: "L.H[,L.H…]" (e.g. "9.6,9.9,10.0", the indirect-object name movers).
import { InterventionError } from './errors.js';
import type { GPT2Config } from '../model/types.js';
import type { HeadRef } from './types.js';

/** Checks that a head exists in a model of this shape; the error names the valid ranges. */
export function checkHead(ref: HeadRef, config: Pick<GPT2Config, 'n_layer' | 'n_head'>): HeadRef {
  const { layer, head } = ref;
  if (!Number.isInteger(layer) || !Number.isInteger(head) || layer < 0 || head < 0 || layer >= config.n_layer || head >= config.n_head) {
    throw new InterventionError(`head ${layer}.${head} is out of range: this model has layers 0..${config.n_layer - 1} and heads 0..${config.n_head - 1}`);
  }
  return ref;
}

/** "9.6,10.0" → [{layer: 9, head: 6}, {layer: 10, head: 0}]; a malformed or out-of-range head is an error. Duplicates are kept once. */
export function parseHeads(spec: string, config: Pick<GPT2Config, 'n_layer' | 'n_head'>): HeadRef[] {
  const out: HeadRef[] = [];
  const seen = new Set<string>();
  for (const part of spec.split(',')) {
    const m = /^\s*(\d+)\.(\d+)\s*$/.exec(part);
    if (!m) throw new InterventionError(`bad head "${part.trim()}": expected L.H (layer.head, e.g. 9.6), a comma-separated list of them`);
    const ref = checkHead({ layer: Number(m[1]), head: Number(m[2]) }, config);
    const key = `${ref.layer}.${ref.head}`;
    if (!seen.has(key)) out.push(ref);
    seen.add(key);
  }
  return out;
}
