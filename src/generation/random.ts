// The seeded random numbers behind sampling. gpt2-lens cannot reproduce torch's generator, so a seed gives the
// same tokens as another gpt2-lens run (on any platform, in Node or a browser), not the same tokens as PyTorch.
//
// PRNG: xoshiro128** (Blackman & Vigna, 2018), 128 bits of state, 32-bit integer arithmetic only (Math.imul and
// shifts), so results are bit-identical everywhere. The state is seeded from the seed with splitmix32.
// A uniform double in [0, 1) takes two outputs: 27 + 26 = 53 random bits, as many as a double's mantissa holds.

function splitmix32(state: number): [next: number, out: number] {
  state = (state + 0x9e3779b9) | 0;
  let z = state;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  z ^= z >>> 16;
  return [state, z >>> 0];
}

const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

export class Xoshiro128 {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** Any integer seed in the safe range (negative and > 2^32 values too: both 32-bit halves are mixed in). */
  constructor(readonly seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`seed must be a safe integer, but is ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 4294967296) | 0;
    let st = lo ^ Math.imul(hi, 0x27d4eb2d);
    const s: number[] = [];
    for (let i = 0; i < 4; i++) {
      let out: number;
      [st, out] = splitmix32(st);
      s.push(out | 0);
    }
    if ((s[0]! | s[1]! | s[2]! | s[3]!) === 0) s[0] = 1; // the all-zero state is a fixed point
    [this.s0, this.s1, this.s2, this.s3] = s as [number, number, number, number];
  }

  /** A generator at an explicit 128-bit state (four 32-bit words, not all zero): for test vectors. */
  static fromState(s0: number, s1: number, s2: number, s3: number): Xoshiro128 {
    const g = new Xoshiro128(0);
    [g.s0, g.s1, g.s2, g.s3] = [s0 | 0, s1 | 0, s2 | 0, s3 | 0];
    return g;
  }

  /** The next 32 random bits, as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  random(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }
}

/** A random seed for runs that do not give one (from Math.random; recorded in the output so a run can be replayed). */
export function randomSeed(): number {
  return Math.floor(Math.random() * 4294967296);
}

/**
 * Draws one id from softmax(scores) by inverse CDF: walk the ids in order, accumulating probabilities, and return
 * the first id whose cumulative probability exceeds u ~ U[0, 1). Removed tokens (-inf) have probability 0 and are
 * never drawn. `probs` is a caller-owned buffer of the row's length.
 */
export function sampleFromScores(scores: ArrayLike<number>, rng: Xoshiro128, probs: Float64Array): number {
  const n = scores.length;
  let m = -Infinity;
  for (let i = 0; i < n; i++) if (scores[i]! > m) m = scores[i]!;
  if (m === -Infinity) throw new Error('cannot sample: every token has been removed (all scores are -inf)');
  let total = 0;
  for (let i = 0; i < n; i++) {
    const e = scores[i]! > -Infinity ? Math.exp(scores[i]! - m) : 0;
    probs[i] = e;
    total += e;
  }
  return drawIndex(probs, n, total, rng.random());
}

/** The first index i with cumsum(weights[0..i]) > u * total (the last positive one if rounding runs past the end). */
export function drawIndex(weights: ArrayLike<number>, n: number, total: number, u: number): number {
  const target = u * total;
  let cum = 0;
  let last = -1;
  for (let i = 0; i < n; i++) {
    const w = weights[i]!;
    if (w <= 0) continue;
    cum += w;
    last = i;
    if (cum > target) return i;
  }
  return last;
}

/**
 * torch.multinomial(probs, k) without replacement: k distinct indices, each drawn in proportion to its weight
 * among those not drawn yet. `weights` is modified (drawn entries are zeroed).
 */
export function sampleWithoutReplacement(weights: Float64Array, k: number, rng: Xoshiro128): number[] {
  let total = 0;
  for (let i = 0; i < weights.length; i++) total += weights[i]!;
  const out: number[] = [];
  for (let j = 0; j < k; j++) {
    if (!(total > 0)) throw new Error(`cannot draw ${k} distinct tokens: only ${j} have a non-zero probability`);
    const i = drawIndex(weights, weights.length, total, rng.random());
    out.push(i);
    total -= weights[i]!;
    weights[i] = 0;
  }
  return out;
}
