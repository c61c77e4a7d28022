// Logits processors and warpers, named and behaving as in Hugging Face transformers 4.43
// (generation/logits_process.py). Each one edits ONE row of next-token scores in place: `apply(input_ids, scores)`
// where input_ids is that row's whole history (prompt, left padding included, plus the tokens generated so far)
// and scores is a Float32Array of vocab_size values. A removed token gets `filter_value` (-Infinity).
//
// Processors (repetition penalty, n-gram blocking, min length, bad words) run in every strategy; warpers
// (temperature, top-k, top-p, min-p, typical, epsilon, eta) run only when sampling. The order is HF's
// (see buildLogitsProcessors in ./configuration.ts).
//
// Buffers of vocabulary size are allocated once per processor object (on first use) and reused every step.
import { kthLargest, softmaxInto, sortIndicesDescending } from './math.js';
import { floatRangeError } from './options.js';

/** One step of the scores pipeline. */
export interface LogitsProcessor {
  /** HF-style description, e.g. `TopKLogitsWarper(top_k=50)`; shown in traces. */
  toString(): string;
  /** Edits `scores` (one row, [vocab_size]) in place, given that row's token history. */
  apply(input_ids: ArrayLike<number>, scores: Float32Array): void;
  /**
   * true when apply() only sets finite scores to -Infinity, at ids chosen from the history alone:
   * it then commutes with subtracting a constant from the row, so beam search may apply it to the raw logits and
   * take the log-softmax shift afterwards, without materialising the log-probabilities.
   */
  readonly masksOnly?: boolean;
}

/** Python's repr() of a float, so that descriptions read as HF's: 2 -> "2.0", 1e-5 -> "1e-05". */
export function pyFloat(x: number): string {
  if (Number.isInteger(x)) return x.toFixed(1);
  if (x !== 0 && Math.abs(x) < 1e-4) return x.toExponential().replace(/e([+-])(\d)$/, 'e$10$2');
  return String(x);
}

function checkMinTokensToKeep(min_tokens_to_keep: number): void {
  if (!Number.isInteger(min_tokens_to_keep) || min_tokens_to_keep < 1) {
    throw new RangeError(`\`min_tokens_to_keep\` has to be a positive integer, but is ${min_tokens_to_keep}`);
  }
}

/** Lazily allocated per-processor scratch buffers, sized to the vocabulary on first use. */
class Scratch {
  private f64?: Float64Array;
  private f32?: Float32Array;
  private i32?: Int32Array;
  probs(n: number): Float64Array {
    if (!this.f64 || this.f64.length < n) this.f64 = new Float64Array(n);
    return this.f64.subarray(0, n);
  }
  floats(n: number): Float32Array {
    if (!this.f32 || this.f32.length < n) this.f32 = new Float32Array(n);
    return this.f32.subarray(0, n);
  }
  indices(n: number): Int32Array {
    if (!this.i32 || this.i32.length < n) this.i32 = new Int32Array(n);
    return this.i32;
  }
}

/** Sets every score strictly below the `k`-th largest to `filter_value` (ties with the k-th survive). */
function keepAtLeastKth(scores: Float32Array, k: number, filter_value: number, scratch: Scratch): void {
  const kth = kthLargest(scores, Math.min(k, scores.length), scratch.floats(scores.length));
  for (let i = 0; i < scores.length; i++) if (scores[i]! < kth) scores[i] = filter_value;
}

// ---------------------------------------------------------------------------------------------------------------
// Warpers (sampling only)

/** scores / temperature: < 1 sharpens the distribution, > 1 flattens it. */
export class TemperatureLogitsWarper implements LogitsProcessor {
  constructor(readonly temperature: number) {
    if (typeof temperature !== 'number' || !(temperature > 0)) {
      let msg = `\`temperature\` (=${temperature}) has to be a strictly positive float, otherwise your next token scores will be invalid.`;
      if (temperature === 0) msg += " If you're looking for greedy decoding strategies, set `do_sample=False`.";
      throw new RangeError(msg);
    }
  }
  toString(): string {
    return `TemperatureLogitsWarper(temperature=${pyFloat(this.temperature)})`;
  }
  apply(_input_ids: ArrayLike<number>, scores: Float32Array): void {
    const t = this.temperature;
    for (let i = 0; i < scores.length; i++) scores[i] = scores[i]! / t;
  }
}

/** Keeps the top_k highest scores; every score equal to the k-th largest survives too (HF: `scores < kth` is removed). */
export class TopKLogitsWarper implements LogitsProcessor {
  readonly top_k: number;
  private readonly scratch = new Scratch();
  constructor(top_k: number, readonly filter_value = -Infinity, min_tokens_to_keep = 1) {
    if (!Number.isInteger(top_k) || top_k <= 0) {
      throw new RangeError(`\`top_k\` has to be a strictly positive integer, but is ${top_k}`);
    }
    this.top_k = Math.max(top_k, min_tokens_to_keep);
  }
  toString(): string {
    return `TopKLogitsWarper(top_k=${this.top_k})`;
  }
  apply(_input_ids: ArrayLike<number>, scores: Float32Array): void {
    keepAtLeastKth(scores, this.top_k, this.filter_value, this.scratch);
  }
}

/**
 * Nucleus sampling. HF sorts ascending, takes the cumulative softmax and removes the tokens whose cumulative
 * probability is <= 1 - top_p, always keeping the last min_tokens_to_keep. Equivalently, walking from the most
 * likely token down, a token survives while the mass strictly above it is < top_p. We never sort the vocabulary:
 * after a top-k only the few survivors are sorted (applySparse); otherwise tokens are bucketed by surprisal and
 * only the bucket where the boundary falls is sorted (applyBucketed).
 */
export class TopPLogitsWarper implements LogitsProcessor {
  private readonly scratch = new Scratch();
  constructor(readonly top_p: number, readonly filter_value = -Infinity, readonly min_tokens_to_keep = 1) {
    const bad = floatRangeError('top_p', top_p); // the range of options.ts
    if (bad) throw new RangeError(bad);
    checkMinTokensToKeep(min_tokens_to_keep);
  }
  toString(): string {
    return `TopPLogitsWarper(top_p=${pyFloat(this.top_p)}, min_tokens_to_keep=${this.min_tokens_to_keep})`;
  }
  apply(_input_ids: ArrayLike<number>, scores: Float32Array): void {
    const V = scores.length;
    if (this.applySparse(scores)) return;
    const probs = this.scratch.probs(V);
    const lse = softmaxInto(scores, probs);
    this.applyBucketed(scores, probs, lse);
  }

  /**
   * After top-k (or any filter leaving few finite scores) only the survivors matter: gather them in one pass,
   * sort those few and walk them. Returns false (doing nothing) when more than 1/16 of the vocabulary is finite.
   */
  private applySparse(scores: Float32Array): boolean {
    const V = scores.length;
    const limitCount = V >> 4;
    const order = this.scratch.indices(V);
    let n = 0;
    for (let i = 0; i < V; i++) {
      if (scores[i]! > -Infinity) {
        if (n === limitCount) return false;
        order[n++] = i;
      }
    }
    if (n === 0) return true;
    sortIndicesDescending(order, n, scores);
    const max = scores[order[0]!]!;
    const probs = this.scratch.probs(n); // probs[r]: unnormalised probability of the r-th best
    let total = 0;
    for (let r = 0; r < n; r++) total += probs[r] = Math.exp(scores[order[r]!]! - max);
    const limit = Math.fround(1 - this.top_p);
    const m = Math.min(this.min_tokens_to_keep, n);
    let above = 0;
    let kept = n;
    for (let r = 0; r < n; r++) {
      if (r >= m && Math.fround(1 - above / total) <= limit) {
        kept = r;
        break;
      }
      above += probs[r]!;
    }
    for (let r = kept; r < n; r++) scores[order[r]!] = this.filter_value;
    return true;
  }

  private bucketMass?: Float64Array;
  private bucketCount?: Int32Array;
  private bucketOf?: Int16Array;

  /**
   * HF's decision without sorting the vocabulary: tokens are grouped by surprisal -log p into buckets of
   * 1/8 nat; whole buckets whose every token has less than top_p above it are kept, whole buckets past the
   * boundary removed, and only the bucket where the boundary falls is sorted and walked token by token.
   */
  private applyBucketed(scores: Float32Array, probs: Float64Array, lse: number): void {
    const V = scores.length;
    const NB = 8 * 64 + 1; // 1/8-nat buckets up to 64 nats, then one for the rest
    this.bucketMass ??= new Float64Array(NB);
    this.bucketCount ??= new Int32Array(NB);
    if (!this.bucketOf || this.bucketOf.length < V) this.bucketOf = new Int16Array(V);
    const mass = this.bucketMass.fill(0);
    const count = this.bucketCount.fill(0);
    const bucketOf = this.bucketOf;
    let total = 0;
    for (let i = 0; i < V; i++) {
      const p = probs[i]!;
      if (p > 0) {
        const k = Math.min(NB - 1, Math.floor((lse - scores[i]!) * 8));
        bucketOf[i] = k;
        mass[k] += p;
        count[k]++;
        total += p;
      } else bucketOf[i] = -1; // probability 0: always removed (its ascending cumsum is 0 <= 1 - top_p)
    }
    const limit = Math.fround(1 - this.top_p); // HF: float32 cumsum <= float32(1 - top_p) is removed
    // first bucket that ends with the remaining mass at or under the limit: the boundary is inside it
    let above = 0;
    let k0 = 0;
    while (k0 < NB && !(Math.fround(total - above - mass[k0]!) <= limit)) above += mass[k0++]!;
    let pMin = 0; // the smallest kept probability
    if (k0 < NB) {
      const order = this.scratch.indices(V);
      let done = false;
      for (let k = k0; k < NB && !done; k++) {
        if (count[k] === 0) continue;
        let n = 0;
        for (let i = 0; i < V; i++) if (bucketOf[i] === k) order[n++] = i;
        sortIndicesDescending(order, n, probs);
        for (let r = 0; r < n; r++) {
          const id = order[r]!;
          // the top token is always kept (and the top min_tokens_to_keep, below)
          if (above > 0 && Math.fround(total - above) <= limit) {
            done = true;
            break;
          }
          pMin = probs[id]!;
          above += probs[id]!;
        }
      }
    }
    // HF never removes the last min_tokens_to_keep of its ascending sort: the best-scored tokens
    const keepFrom = this.min_tokens_to_keep > 1 ? kthLargest(scores, Math.min(this.min_tokens_to_keep, V), this.scratch.floats(V)) : Infinity;
    for (let i = 0; i < V; i++) if (!(probs[i]! >= pMin && bucketOf[i]! >= 0) && !(scores[i]! >= keepFrom)) scores[i] = this.filter_value;
  }
}

/** Min-p: removes tokens whose probability is below min_p times the top token's probability. */
export class MinPLogitsWarper implements LogitsProcessor {
  private readonly scratch = new Scratch();
  constructor(readonly min_p: number, readonly filter_value = -Infinity, readonly min_tokens_to_keep = 1) {
    const bad = floatRangeError('min_p', min_p); // the range of options.ts
    if (bad) throw new RangeError(bad);
    checkMinTokensToKeep(min_tokens_to_keep);
  }
  toString(): string {
    return `MinPLogitsWarper(min_p=${pyFloat(this.min_p)}, min_tokens_to_keep=${this.min_tokens_to_keep})`;
  }
  apply(_input_ids: ArrayLike<number>, scores: Float32Array): void {
    const V = scores.length;
    const probs = this.scratch.probs(V);
    softmaxInto(scores, probs);
    let top = 0;
    for (let i = 0; i < V; i++) if (probs[i]! > top) top = probs[i]!;
    const threshold = Math.fround(this.min_p * Math.fround(top));
    const keepFrom = this.min_tokens_to_keep > 1 ? kthLargest(scores, Math.min(this.min_tokens_to_keep, V), this.scratch.floats(V)) : Infinity;
    for (let i = 0; i < V; i++) {
      if (Math.fround(probs[i]!) < threshold && !(scores[i]! >= keepFrom)) scores[i] = this.filter_value;
    }
  }
}

/**
 * Writes softmax(scores) into probs and returns the log-sum-exp and the entropy H = -sum p log p
 * (0 * -inf terms are dropped, as torch's nansum does). Typical and eta sampling both start from these.
 */
function softmaxEntropy(scores: Float32Array, probs: Float64Array): { lse: number; ent: number } {
  const lse = softmaxInto(scores, probs);
  let ent = 0;
  for (let i = 0; i < scores.length; i++) if (probs[i]! > 0) ent -= probs[i]! * (scores[i]! - lse);
  return { lse, ent };
}

/**
 * Locally typical sampling: keeps the tokens whose surprisal -log p is closest to the entropy H, taking them in
 * order of |-log p - H| until their mass reaches `mass`.
 */
export class TypicalLogitsWarper implements LogitsProcessor {
  private readonly scratch = new Scratch();
  private shifted?: Float64Array;
  constructor(readonly mass = 0.9, readonly filter_value = -Infinity, readonly min_tokens_to_keep = 1) {
    if (typeof mass !== 'number' || !(mass > 0 && mass < 1)) {
      throw new RangeError(`\`typical_p\` has to be a float > 0 and < 1, but is ${mass}`);
    }
    checkMinTokensToKeep(min_tokens_to_keep);
  }
  toString(): string {
    return `TypicalLogitsWarper(mass=${pyFloat(this.mass)}, min_tokens_to_keep=${this.min_tokens_to_keep})`;
  }
  apply(_input_ids: ArrayLike<number>, scores: Float32Array): void {
    const V = scores.length;
    const probs = this.scratch.probs(V);
    const { lse, ent } = softmaxEntropy(scores, probs);
    if (!this.shifted || this.shifted.length < V) this.shifted = new Float64Array(V);
    const shifted = this.shifted;
    const order = this.scratch.indices(V);
    let n = 0;
    for (let i = 0; i < V; i++) {
      shifted[i] = Math.abs(-(scores[i]! - lse) - ent); // |surprisal - H|; +inf for removed tokens
      if (scores[i]! > -Infinity) order[n++] = i;
    }
    if (this.min_tokens_to_keep === 1) {
      this.applyBucketed(scores, probs, shifted);
      return;
    }
    // ascending |surprisal - H| (removed tokens, at +inf, would sort last: they stay removed)
    order.subarray(0, n).sort((a, b) => shifted[a]! - shifted[b]! || a - b);
    let cum = 0;
    let lastInd = 0; // HF: the number of sorted tokens whose cumulative probability is < mass
    for (let r = 0; r < n; r++) {
      cum += probs[order[r]!]!;
      if (Math.fround(cum) < this.mass) lastInd = r + 1;
      else break;
    }
    const threshold = lastInd < n ? shifted[order[lastInd]!]! : Infinity;
    const m = Math.min(this.min_tokens_to_keep, n);
    const keep = new Set<number>();
    for (let r = 0; r < m; r++) keep.add(order[r]!);
    for (let i = 0; i < V; i++) if (shifted[i]! > threshold && !keep.has(i)) scores[i] = this.filter_value;
  }

  private bucketMass?: Float64Array;
  private bucketOf?: Int16Array;

  /**
   * The same decision without sorting the vocabulary: tokens are grouped by |surprisal - H| in 1/16-nat buckets;
   * only the bucket where the cumulative mass reaches `mass` is sorted and walked. (min_tokens_to_keep 1: the
   * most typical token is always at or under the threshold, so it always survives.)
   */
  private applyBucketed(scores: Float32Array, probs: Float64Array, shifted: Float64Array): void {
    const V = scores.length;
    const NB = 16 * 64 + 1;
    this.bucketMass ??= new Float64Array(NB);
    if (!this.bucketOf || this.bucketOf.length < V) this.bucketOf = new Int16Array(V);
    const bmass = this.bucketMass.fill(0);
    const bucketOf = this.bucketOf;
    for (let i = 0; i < V; i++) {
      const k = scores[i]! > -Infinity ? Math.min(NB - 1, Math.floor(shifted[i]! * 16)) : -1;
      bucketOf[i] = k;
      if (k >= 0) bmass[k] += probs[i]!;
    }
    // HF: last_ind = #(sorted tokens whose cumulative probability < mass); the threshold is the key at last_ind
    let threshold = Infinity;
    let cum = 0;
    let k = 0;
    while (k < NB && !(Math.fround(cum + bmass[k]!) >= this.mass)) cum += bmass[k++]!;
    const order = this.scratch.indices(V);
    for (; k < NB && threshold === Infinity; k++) {
      let n = 0;
      for (let i = 0; i < V; i++) if (bucketOf[i] === k) order[n++] = i;
      order.subarray(0, n).sort((a, b) => shifted[a]! - shifted[b]! || a - b);
      for (let r = 0; r < n; r++) {
        cum += probs[order[r]!]!;
        if (Math.fround(cum) >= this.mass) {
          threshold = shifted[order[r]!]!;
          break;
        }
      }
    }
    for (let i = 0; i < V; i++) if (shifted[i]! > threshold) scores[i] = this.filter_value;
  }
}

/** Epsilon sampling: removes tokens whose probability is below a fixed epsilon (the top min_tokens_to_keep survive). */
export class EpsilonLogitsWarper implements LogitsProcessor {
  private readonly scratch = new Scratch();
  constructor(readonly epsilon: number, readonly filter_value = -Infinity, readonly min_tokens_to_keep = 1) {
    if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon < 1)) {
      throw new RangeError(`\`epsilon_cutoff\` has to be a float > 0 and < 1, but is ${epsilon}`);
    }
    checkMinTokensToKeep(min_tokens_to_keep);
  }
  toString(): string {
    return `EpsilonLogitsWarper(epsilon=${pyFloat(this.epsilon)}, min_tokens_to_keep=${this.min_tokens_to_keep})`;
  }
  apply(_input_ids: ArrayLike<number>, scores: Float32Array): void {
    removeBelow(scores, Math.fround(this.epsilon), this.min_tokens_to_keep, this.filter_value, this.scratch);
  }
}

/** Eta sampling: like epsilon, with the cutoff eta = min(epsilon, sqrt(epsilon) * exp(-entropy)). */
export class EtaLogitsWarper implements LogitsProcessor {
  private readonly scratch = new Scratch();
  /** HF keeps epsilon as a float32 tensor. */
  readonly epsilon: number;
  constructor(epsilon: number, readonly filter_value = -Infinity, readonly min_tokens_to_keep = 1) {
    if (typeof epsilon !== 'number' || !(epsilon > 0 && epsilon < 1)) {
      throw new RangeError(`\`eta_cutoff\` has to be a float > 0 and < 1, but is ${epsilon}`);
    }
    checkMinTokensToKeep(min_tokens_to_keep);
    this.epsilon = Math.fround(epsilon);
  }
  toString(): string {
    return `EtaLogitsWarper(epsilon=${pyFloat(this.epsilon)}, min_tokens_to_keep=${this.min_tokens_to_keep})`;
  }
  apply(_input_ids: ArrayLike<number>, scores: Float32Array): void {
    const V = scores.length;
    const probs = this.scratch.probs(V);
    const { ent } = softmaxEntropy(scores, probs);
    const eta = Math.fround(Math.min(this.epsilon, Math.sqrt(this.epsilon) * Math.exp(-ent)));
    removeBelow(scores, eta, this.min_tokens_to_keep, this.filter_value, this.scratch, probs);
  }
}

/** Removes tokens with probability < cutoff unless their score is among the top `keep` (ties included). */
function removeBelow(scores: Float32Array, cutoff: number, keep: number, filter_value: number, scratch: Scratch, probs?: Float64Array): void {
  const V = scores.length;
  if (!probs) {
    probs = scratch.probs(V);
    softmaxInto(scores, probs);
  }
  const keepFrom = kthLargest(scores, Math.min(keep, V), scratch.floats(V));
  for (let i = 0; i < V; i++) {
    if (Math.fround(probs[i]!) < cutoff && scores[i]! < keepFrom) scores[i] = filter_value;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Processors (every strategy)

/**
 * CTRL's repetition penalty: every distinct id already in the history gets `s < 0 ? s * penalty : s / penalty`,
 * so > 1 discourages repeats whichever the sign of the score.
 */
export class RepetitionPenaltyLogitsProcessor implements LogitsProcessor {
  private seen?: Uint8Array;
  constructor(readonly penalty: number) {
    if (typeof penalty !== 'number' || !(penalty > 0)) {
      throw new RangeError(`\`penalty\` has to be a strictly positive float, but is ${penalty}`);
    }
  }
  toString(): string {
    return `RepetitionPenaltyLogitsProcessor(penalty=${pyFloat(this.penalty)})`;
  }
  apply(input_ids: ArrayLike<number>, scores: Float32Array): void {
    if (!this.seen || this.seen.length < scores.length) this.seen = new Uint8Array(scores.length);
    const seen = this.seen;
    const p = this.penalty;
    for (let i = 0; i < input_ids.length; i++) {
      const id = input_ids[i]!;
      if (seen[id]) continue; // each distinct id once (HF gathers, then scatters the same value)
      seen[id] = 1;
      const s = scores[id]!;
      scores[id] = s < 0 ? s * p : s / p;
    }
    for (let i = 0; i < input_ids.length; i++) seen[input_ids[i]!] = 0;
  }
}

/** Bans any token that would complete an n-gram (of ngram_size tokens) already present in the history. */
export class NoRepeatNGramLogitsProcessor implements LogitsProcessor {
  readonly masksOnly = true;
  constructor(readonly ngram_size: number) {
    if (!Number.isInteger(ngram_size) || ngram_size <= 0) {
      throw new RangeError(`\`ngram_size\` has to be a strictly positive integer, but is ${ngram_size}`);
    }
  }
  toString(): string {
    return `NoRepeatNGramLogitsProcessor(ngram_size=${this.ngram_size})`;
  }
  /** The tokens that would repeat an n-gram after `input_ids`. */
  bannedTokens(input_ids: ArrayLike<number>): number[] {
    const n = this.ngram_size;
    const len = input_ids.length;
    if (len + 1 < n) return [];
    const prefixStart = len + 1 - n; // the last n-1 tokens are the prefix of the next n-gram
    const banned: number[] = [];
    // every earlier n-gram [i, i+n) whose first n-1 tokens equal the prefix bans its last token
    for (let i = 0; i + n <= len; i++) {
      let match = true;
      for (let j = 0; j < n - 1; j++) {
        if (input_ids[i + j] !== input_ids[prefixStart + j]) {
          match = false;
          break;
        }
      }
      if (match) banned.push(input_ids[i + n - 1]!);
    }
    return banned;
  }
  apply(input_ids: ArrayLike<number>, scores: Float32Array): void {
    for (const id of this.bannedTokens(input_ids)) scores[id] = -Infinity;
  }
}

function eosList(eos_token_id: number | readonly number[]): number[] {
  return typeof eos_token_id === 'number' ? [eos_token_id] : [...eos_token_id];
}

/** Forbids the eos token(s) while the whole sequence (prompt included) is shorter than min_length. */
export class MinLengthLogitsProcessor implements LogitsProcessor {
  readonly masksOnly = true;
  readonly eos_token_id: number[];
  constructor(readonly min_length: number, eos_token_id: number | readonly number[]) {
    if (!Number.isInteger(min_length) || min_length < 0) {
      throw new RangeError(`\`min_length\` has to be a non-negative integer, but is ${min_length}`);
    }
    this.eos_token_id = eosList(eos_token_id);
  }
  toString(): string {
    return `MinLengthLogitsProcessor(min_length=${this.min_length}, eos_token_id=[${this.eos_token_id.join(', ')}])`;
  }
  apply(input_ids: ArrayLike<number>, scores: Float32Array): void {
    if (input_ids.length < this.min_length) for (const e of this.eos_token_id) scores[e] = -Infinity;
  }
}

/** Forbids the eos token(s) until min_new_tokens tokens have been generated after the prompt. */
export class MinNewTokensLengthLogitsProcessor implements LogitsProcessor {
  readonly masksOnly = true;
  readonly eos_token_id: number[];
  constructor(readonly prompt_length_to_skip: number, readonly min_new_tokens: number, eos_token_id: number | readonly number[]) {
    for (const [name, v] of [['prompt_length_to_skip', prompt_length_to_skip], ['min_new_tokens', min_new_tokens]] as const) {
      if (!Number.isInteger(v) || v < 0) throw new RangeError(`\`${name}\` has to be a positive integer, but is ${v}`);
    }
    this.eos_token_id = eosList(eos_token_id);
  }
  toString(): string {
    return `MinNewTokensLengthLogitsProcessor(prompt_length_to_skip=${this.prompt_length_to_skip}, min_new_tokens=${this.min_new_tokens}, eos_token_id=[${this.eos_token_id.join(', ')}])`;
  }
  apply(input_ids: ArrayLike<number>, scores: Float32Array): void {
    if (input_ids.length - this.prompt_length_to_skip < this.min_new_tokens) for (const e of this.eos_token_id) scores[e] = -Infinity;
  }
}

/**
 * Bans token sequences: a one-token entry is always banned; a longer one bans its last token when the history
 * ends with the rest. As in HF, an entry equal to [eos] is dropped (use min_new_tokens to delay the eos).
 */
export class NoBadWordsLogitsProcessor implements LogitsProcessor {
  readonly masksOnly = true;
  readonly bad_words_ids: number[][];
  constructor(bad_words_ids: readonly (readonly number[])[], eos_token_id?: number | readonly number[] | null) {
    if (!Array.isArray(bad_words_ids) || bad_words_ids.length === 0) {
      throw new RangeError(`\`bad_words_ids\` has to be a non-empty list, but is ${JSON.stringify(bad_words_ids)}.`);
    }
    if (bad_words_ids.some((w) => !Array.isArray(w))) {
      throw new RangeError(`\`bad_words_ids\` has to be a list of lists, but is ${JSON.stringify(bad_words_ids)}.`);
    }
    if (bad_words_ids.some((w) => w.length === 0 || w.some((t: number) => !Number.isInteger(t) || t < 0))) {
      throw new RangeError(`Each list in \`bad_words_ids\` has to be a list of positive integers, but is ${JSON.stringify(bad_words_ids)}.`);
    }
    const eos = eos_token_id == null ? [] : eosList(eos_token_id);
    this.bad_words_ids = bad_words_ids.filter((w) => !(w.length === 1 && eos.includes(w[0]!))).map((w) => [...w]);
  }
  toString(): string {
    return `NoBadWordsLogitsProcessor(bad_words_ids=${JSON.stringify(this.bad_words_ids)})`;
  }
  /** Throws HF's message when a banned id is outside the vocabulary. */
  checkVocabulary(vocab_size: number): void {
    const invalid = this.bad_words_ids.flat().filter((t) => t >= vocab_size);
    if (invalid.length > 0) {
      throw new RangeError(`The model vocabulary size is ${vocab_size}, but the following tokens were being biased: [${invalid.join(', ')}]`);
    }
  }
  apply(input_ids: ArrayLike<number>, scores: Float32Array): void {
    const len = input_ids.length;
    for (const w of this.bad_words_ids) {
      const last = w[w.length - 1]!;
      if (w.length === 1) {
        scores[last] = scores[last]! + -Infinity;
        continue;
      }
      if (w.length > len) continue;
      let match = true;
      for (let j = 0; j < w.length - 1; j++) {
        if (input_ids[len - (w.length - 1) + j] !== w[j]) {
          match = false;
          break;
        }
      }
      if (match) scores[last] = scores[last]! + -Infinity;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** An ordered list of processors, applied one after the other (HF's LogitsProcessorList). */
export class LogitsProcessorList implements Iterable<LogitsProcessor> {
  readonly processors: LogitsProcessor[];
  constructor(processors: Iterable<LogitsProcessor> = []) {
    this.processors = [...processors];
  }
  get length(): number {
    return this.processors.length;
  }
  push(...p: LogitsProcessor[]): this {
    this.processors.push(...p);
    return this;
  }
  [Symbol.iterator](): Iterator<LogitsProcessor> {
    return this.processors[Symbol.iterator]();
  }
  /** Applies every processor in order to one row. */
  apply(input_ids: ArrayLike<number>, scores: Float32Array): void {
    for (const p of this.processors) p.apply(input_ids, scores);
  }
  toString(): string {
    return `[${this.processors.map(String).join(', ')}]`;
  }
}

/** Ids of the `k` best scores of a row, best first (ties by id), without sorting the whole row. */
export function topKIndices(scores: ArrayLike<number>, k: number, scratch?: Float32Array): number[] {
  const V = scores.length;
  k = Math.min(k, V);
  if (k <= 0) return [];
  const kth = kthLargest(scores, k, scratch);
  let n = 0; // the ids at or above the k-th value: k, or a few more on ties
  for (let i = 0; i < V; i++) if (scores[i]! >= kth) n++;
  const out = new Int32Array(n);
  for (let i = 0, j = 0; i < V; i++) if (scores[i]! >= kth) out[j++] = i;
  sortIndicesDescending(out, n, scores);
  return Array.from(out.subarray(0, k));
}
