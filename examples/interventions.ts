// docs/interventions.md, runnable: write hooks, head ablation, direct logit attribution and activation patching.
//   npx tsx examples/interventions.ts [MODEL]     (default random:gpt2; openai-community/gpt2 for real numbers)
import { AutoTokenizer, GPT2LMHeadModel, ablate, attribute, parseHeads, patch, resolveToken } from '../src/node/index.js';

const spec = process.argv[2] ?? 'random:gpt2';
const model = await GPT2LMHeadModel.from_pretrained(spec);
const tokenizer = await AutoTokenizer.from_pretrained(spec.startsWith('random:') ? 'gpt2-lens/bundled' : spec); // random: the bundled GPT-2 vocabulary
const clean = tokenizer.encode('When Mary and John went to the store, John gave a drink to');
const corrupted = tokenizer.encode('When John and Mary went to the store, Mary gave a drink to');
const L = model.config.n_layer;

// 1. a write hook: double the residual stream entering the last block (a replacement of the same shape)
const doubled = await model.forward({
  input_ids: [clean],
  num_logits_to_keep: 1,
  hooks: { [`blocks.${L - 1}.hook_resid_pre`]: ({ data, dims }) => ({ data: data.map((x) => 2 * x), dims }) },
});
console.log('hooked logits:', doubled.logits.dims.join('x'));

// 2. ablation: the next-token table with two heads' outputs replaced by their mean over the prompt
const heads = parseHeads(`${L - 1}.0,${L - 1}.1`, model.config);
const table = await ablate(model, clean, heads, { kind: 'mean', top: 3, tokenizer });
console.log('ablated top:', table.top.map((t) => `${JSON.stringify(t.token)} ${t.prob.toFixed(4)}`).join(', '));

// 3. direct logit attribution of " Mary" at the last position
const mary = resolveToken(' Mary', tokenizer, model.config.vocab_size);
const attr = await attribute(model, clean, mary);
const sum = attr.components.reduce((a, c) => a + c.value, 0);
console.log(`attribution: logit ${attr.logit.toFixed(4)}, ${attr.components.length} components summing to ${sum.toFixed(4)}`);

// 4. activation patching of the residual stream, layer × position
const john = resolveToken(' John', tokenizer, model.config.vocab_size);
const grid = await patch(model, { clean, corrupted, answer: mary, wrong: john, hook: 'resid_pre' });
console.log(`patching: ${grid.rows.length} × ${grid.cols.length} cells; clean diff ${grid.clean_logit_diff.toFixed(4)}, corrupted ${grid.corrupted_logit_diff.toFixed(4)}`);
