// What the intervention helpers (ablate, attribute, patch) need from a model and a tokenizer, and the one
// attention head address they share. GPT2LMHeadModel and GPT2Tokenizer satisfy these.
import type { ForwardHooks } from '../model/hooks.js';
import type { BaseModelOutput, CausalLMOutput, ForwardInputs, GPT2Config, GPT2Weights } from '../model/types.js';

/** A language model with write hooks and captures: GPT2LMHeadModel. */
export interface InterventionModel {
  readonly config: GPT2Config;
  readonly weights: GPT2Weights;
  forward(inputs: ForwardInputs & { hooks?: ForwardHooks }): Promise<CausalLMOutput>;
  /**
   * Optional, GPT2LMHeadModel's `transformer`: the same passes without the LM head (→ last_hidden_state). patch()
   * uses it to score two logits without computing all vocab_size of them; without it, it captures ln_f's output.
   */
  readonly transformer?: { forward(inputs: ForwardInputs & { hooks?: ForwardHooks }): Promise<BaseModelOutput> };
}

/** Encodes text and decodes ids: GPT2Tokenizer. */
export interface TextCodec {
  encode(text: string): number[];
  decode(ids: number[]): string;
}

/** Attention head `head` of block `layer` (the CLI writes it L.H, the JSON LxHy). */
export interface HeadRef {
  layer: number;
  head: number;
}
