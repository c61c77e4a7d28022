// A token given by id or by text ("--target 6342" or "--target ' Paris'"): one rule for the CLI and the API.
import { InterventionError } from './errors.js';
import type { TextCodec } from './types.js';

/** A token id from a decimal id or from text that is exactly one token; anything else is an "unknown token" error. */
export function resolveToken(spec: string | number, tokenizer: TextCodec, vocab_size: number): number {
  if (typeof spec === 'number' || /^\d+$/.test(spec)) {
    const id = Number(spec);
    if (!Number.isInteger(id) || id < 0 || id >= vocab_size) throw new InterventionError(`unknown token id ${spec}: ids are 0..${vocab_size - 1}`);
    return id;
  }
  const ids = tokenizer.encode(spec);
  if (ids.length !== 1) {
    throw new InterventionError(
      `unknown token ${JSON.stringify(spec)}: it is ${ids.length} tokens${ids.length ? ` [${ids.join(', ')}]` : ''}, not one ` +
        '(give a token id, or the text of a single token, spaces included, e.g. " Paris")',
    );
  }
  return ids[0]!;
}
