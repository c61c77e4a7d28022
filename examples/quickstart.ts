// The README's quick start, runnable: tokens, the next-token table, and greedy / beam / sampled generation.
//   npx tsx examples/quickstart.ts                      (openai-community/gpt2, downloaded once into the HF cache)
//   npx tsx examples/quickstart.ts random:gpt2          (no download; random weights, so the text is nonsense)
//   npx tsx examples/quickstart.ts ../shared/fixtures/gpt2-tiny
// In your own project, import from 'gpt2-lens/node' instead of '../src/node/index.js'.
import { AutoTokenizer, GPT2LMHeadModel, useNodeWasmBackend } from '../src/node/index.js';

const id = process.argv[2] ?? 'openai-community/gpt2';
const model = await GPT2LMHeadModel.from_pretrained(id); // a Hub id, a folder, or random:gpt2
const tokenizer = id.startsWith('random:') ? await AutoTokenizer.from_pretrained('gpt2-lens/bundled') : await AutoTokenizer.from_pretrained(id);
await useNodeWasmBackend(model); // optional: the WebAssembly SIMD engine on every core (same numbers within 1e-4)

const input_ids = tokenizer.encode('The theory of relativity is'); // [464, 4583, 286, 44449, 318]
console.log(input_ids, input_ids.map((i) => tokenizer.decode([i])));

// The next-token table: softmax over the last position's logits, [1, T, 50257] (here only the last row is kept).
const { logits } = await model.forward({ input_ids: [input_ids], num_logits_to_keep: 1 });
const max = Math.max(...logits.data);
const exp = logits.data.map((l) => Math.exp(l - max));
const sum = exp.reduce((a, b) => a + b, 0);
const top = [...exp.keys()].sort((a, b) => exp[b]! - exp[a]!).slice(0, 5);
for (const t of top) console.log(JSON.stringify(tokenizer.decode([t])), (exp[t]! / sum).toFixed(4));

// generate(), with Hugging Face's option names and semantics.
const greedy = await model.generate({ input_ids: [input_ids], max_new_tokens: 15 });
console.log('greedy:', tokenizer.decode(greedy.sequences[0]!));
const beams = await model.generate({ input_ids: [input_ids], max_new_tokens: 15, num_beams: 4, early_stopping: true });
console.log('beam  :', tokenizer.decode(beams.sequences[0]!));
const sampled = await model.generate({ input_ids: [input_ids], max_new_tokens: 15, do_sample: true, temperature: 0.8, top_p: 0.9, seed: 42 });
console.log('sample:', tokenizer.decode(sampled.sequences[0]!));
