// The ceilings a session puts on a request, beyond the math's own ranges: the same over HTTP and in a Worker.
import type { ServerLimits } from './types.js';

export const DEFAULT_LIMITS: Readonly<ServerLimits> = Object.freeze({
  max_body_bytes: 256 * 1024,
  max_prompt_tokens: 512,
  max_forward_tokens: 128,
  max_new_tokens: 256,
  num_beams: 8,
  num_return_sequences: 8,
  max_top: 100,
  max_patch_tokens: 32,
  max_queue: 64,
});
