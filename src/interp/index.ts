// Interventions (browser-safe): ablate heads, attribute a logit, patch activations, built on the model's write
// hooks (forward({hooks})). Every helper returns the JSON the CLI and the API print. See docs/interventions.md.
export { InterventionError } from './errors.js';
export type { InterventionModel, TextCodec, HeadRef } from './types.js';
export { parseHeads, checkHead } from './heads.js';
export { resolveToken } from './tokens.js';
export { nextTokens, nextTokenRows, type NextToken, type NextTokens } from './next.js';
export { ablate, ablationHooks, ablationHooksFor, meanHeadOutputs, ABLATION_KINDS, type AblationKind, type AblateOptions } from './ablate.js';
export { attribute, type Attribution, type AttributionComponent } from './attribute.js';
export { isPatchHook, patch, PATCH_HOOKS, type PatchHook, type PatchArgs, type PatchResult } from './patch.js';
