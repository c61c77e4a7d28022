// What the intervention commands share: --ablate / --ablation (next, generate), and turning the core's
// InterventionError (a bad head, an unknown token, prompts of different lengths…) into a usage error (exit 2).
import type { Command } from 'commander';
import { ABLATION_KINDS, ablationHooksFor, InterventionError, parseHeads, type AblationKind } from '../interp/index.js';
import type { ForwardHooks } from '../model/hooks.js';
import type { GPT2LMHeadModel } from '../model/index.js';
import { UsageError } from './errors.js';

export interface AblateCliOptions {
  ablate?: string;
  ablation?: string;
}

/** `--ablate L.H[,L.H…]` and `--ablation zero|mean`. */
export function addAblateOptions(command: Command): Command {
  return command
    .option('--ablate <heads>', "ablate these attention heads (layer.head, comma-separated, e.g. 9.6,9.9): their attn.hook_z is replaced")
    .option('--ablation <kind>', "with --ablate: zero (the head's output is 0) or mean (its mean over the prompt's positions)", 'zero');
}

/** Runs `fn`; an InterventionError becomes a UsageError (one line, exit 2). */
export async function asUsage<T>(fn: () => T | Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    if (e instanceof InterventionError) throw new UsageError(e.message);
    throw e;
  }
}

/** The checked ablation kind (before any model is loaded). */
export function ablationKind(opts: AblateCliOptions): AblationKind {
  const kind = (opts.ablation ?? 'zero') as AblationKind;
  if (!ABLATION_KINDS.includes(kind)) throw new UsageError(`--ablation must be zero or mean, got "${opts.ablation}"`);
  if (opts.ablation !== undefined && opts.ablation !== 'zero' && opts.ablate === undefined) throw new UsageError('--ablation needs --ablate (which heads)');
  return kind;
}

/** The write hooks that --ablate asks for on this prompt, or undefined without --ablate. */
export async function ablationFromOptions(opts: AblateCliOptions, model: GPT2LMHeadModel, input_ids: number[]): Promise<{ hooks: ForwardHooks; label: string } | undefined> {
  const kind = ablationKind(opts);
  if (opts.ablate === undefined) return undefined;
  return asUsage(async () => {
    const heads = parseHeads(opts.ablate!, model.config);
    const hooks = await ablationHooksFor(model, input_ids, heads, kind);
    return { hooks, label: `heads ${heads.map((h) => `${h.layer}.${h.head}`).join(', ')} ablated (${kind})` };
  });
}
