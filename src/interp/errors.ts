// A bad request to an intervention (a head out of range, an unknown token, prompts of different lengths, a zero
// denominator): the caller's mistake, not a failure. The CLI exits 2 on it; an API answers 400.
export class InterventionError extends Error {
  override name = 'InterventionError';
}
