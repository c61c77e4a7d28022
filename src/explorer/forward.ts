// One forward pass made visible (/api/forward): attention per layer and head, the residual stream, the logit lens.
import { captureActivations, CaptureError } from '../model/captures.js';
import { logitLens } from '../model/logit-lens.js';
import { ApiError } from './errors.js';
import { promptIds, tokenText, type SessionContext } from './context.js';
import type { CaptureJson, ForwardRequest, ForwardResponse, LensEntry } from './types.js';

/** Rounds to 6 decimals: attention weights and probabilities, short enough for JSON, exact enough to read. */
const r6 = (x: number): number => Math.round(x * 1e6) / 1e6;

/** Checks the prompt and returns the job that runs the pass. */
export function prepareForward(ctx: SessionContext, body: ForwardRequest): () => Promise<ForwardResponse> {
  const ids = promptIds(ctx, body, ctx.limits.max_forward_tokens);
  return async () => {
    const T = ids.length;
    const { n_layer, n_head, n_embd } = ctx.model.config;
    const res: ForwardResponse = { input_ids: ids, tokens: ids.map((id) => tokenText(ctx, id)) };
    const wantAttn = body.attentions ?? true;
    const wantHidden = body.hidden_states ?? false;
    if (wantAttn || wantHidden) {
      const out = await ctx.model.forward({
        input_ids: [ids],
        use_cache: false,
        num_logits_to_keep: 1,
        output_attentions: wantAttn,
        output_hidden_states: wantHidden,
      });
      if (wantAttn) {
        // each layer's attentions: [1, n_head, T, T] -> [n_head][T][T]
        res.attentions = out.attentions!.map((a) =>
          Array.from({ length: n_head }, (_, h) =>
            Array.from({ length: T }, (_, q) => Array.from(a.data.subarray((h * T + q) * T, (h * T + q + 1) * T), r6)),
          ),
        );
      }
      if (wantHidden) {
        // each hidden state: [1, T, n_embd] -> [T][n_embd]
        res.hidden_states = out.hidden_states!.map((hs) =>
          Array.from({ length: T }, (_, t) => Array.from(hs.data.subarray(t * n_embd, (t + 1) * n_embd))),
        );
      }
    }
    if (body.lens ?? true) {
      const lens = await logitLens(ctx.model, { input_ids: [ids] }, { topk: body.lens_top ?? 3 });
      // lens.top[layer][batch row 0][position] -> [layer][position][k]
      res.lens = lens.top.map((layer) =>
        layer[0]!.map((pos): LensEntry[] => pos.ids.map((id, k) => ({ id, token: tokenText(ctx, id), prob: r6(pos.probs[k]!) }))),
      );
      if (res.lens.length !== n_layer + 1) throw new Error(`the logit lens returned ${res.lens.length} layers, expected ${n_layer + 1}`);
    }
    if (body.capture !== undefined) res.captures = await forwardCaptures(ctx, ids, body.capture);
    return res;
  };
}

/** `capture`: the named activations (src/model/captures.ts); a bad name or too many floats is a 400 on "capture". */
async function forwardCaptures(ctx: SessionContext, ids: number[], names: string[]): Promise<Record<string, CaptureJson>> {
  try {
    return await captureActivations(ctx.model, ids, names);
  } catch (err) {
    if (err instanceof CaptureError) throw new ApiError(err.message, 'capture');
    throw err;
  }
}
