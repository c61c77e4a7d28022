// Small numeric helpers shared by the logits processors, the samplers and beam search. Everything works on one
// row of scores (a Float32Array of vocab_size values) in place or into a caller-owned buffer, so a generation
// step allocates nothing of vocabulary size.

import { logSumExp } from '../model/topk.js';

/** The largest finite-or-not value of a row (-Infinity when every score is -inf). */
export function rowMax(scores: ArrayLike<number>): number {
  let m = -Infinity;
  for (let i = 0; i < scores.length; i++) if (scores[i]! > m) m = scores[i]!;
  return m;
}

/**
 * softmax(scores) into `out` (float64 accumulation, like a numerically careful torch.softmax), returning
 * log(sum(exp(s - max))) + max, i.e. logsumexp. Tokens at -inf get probability 0.
 */
export function softmaxInto(scores: ArrayLike<number>, out: Float64Array | Float32Array): number {
  const m = rowMax(scores);
  if (m === -Infinity) {
    out.fill(0);
    return -Infinity;
  }
  let sum = 0;
  for (let i = 0; i < scores.length; i++) {
    const e = Math.exp(scores[i]! - m);
    out[i] = e;
    sum += e;
  }
  const inv = 1 / sum;
  for (let i = 0; i < scores.length; i++) out[i] = out[i]! * inv;
  return m + Math.log(sum);
}

/** softmax(scores) into a new Float64Array (softmaxInto's numbers: the CLI and the server report these). */
export function softmaxArray(scores: ArrayLike<number>): Float64Array {
  const out = new Float64Array(scores.length);
  softmaxInto(scores, out);
  return out;
}

/** logsumexp of a row: the model's (src/model/topk.ts), here beside the other row helpers. */
export { logSumExp };

/**
 * In place: scores <- log_softmax(scores) (HF beam search scores every beam row this way). `lse` is the row's
 * log-sum-exp: generate() passes RowStats.lse (src/model/row-stats.ts); without it, logSumExp's.
 */
export function logSoftmaxInPlace(scores: Float32Array, lse: number = logSumExp(scores)): void {
  const n = scores.length;
  for (let i = 0; i < n; i++) scores[i] = scores[i]! - lse;
}

/**
 * Beam search's candidate selection for one batch item, without building the [beams × vocab] sums: for every
 * beam row j of `logits` (rows `firstRow .. firstRow + beams - 1`, each `V` long) and token v, the candidate
 * score is float32(logits[row][v] + beamScores[row]), its flat index j * V + v. Writes the `k` best, best first
 * (ties: the lower flat index first, as a stable sort of the flattened row), into outIndex/outScore and returns
 * how many there are (k, or fewer when beams × V < k). One pass with a k-entry min-heap: O(beams · V + k log k).
 * With `shift` (per row: its log-sum-exp), `logits` are raw and the score is float32(float32(logit - shift[row]) +
 * beamScores[row]): exactly the score of the log-softmax row (logSoftmaxInPlace), which is never materialised.
 */
export function topBeamCandidates(
  logits: Float32Array,
  firstRow: number,
  beams: number,
  V: number,
  beamScores: ArrayLike<number>,
  k: number,
  outIndex: Int32Array,
  outScore: Float32Array,
  shift?: ArrayLike<number>,
): number {
  // heap[0] is the worst kept candidate: the lowest score, and among equal scores the highest index
  if (k <= 0) return 0;
  const hIdx = outIndex;
  const hScore = outScore;
  let size = 0;
  let threshold = -Infinity; // the worst kept score once the heap is full
  const shifted = shift !== undefined;
  for (let j = 0; j < beams; j++) {
    const row = firstRow + j;
    const bs = beamScores[row]!;
    const sh = shifted ? shift[row]! : 0;
    // A cheap pre-test on the raw value: the score is monotone (non-decreasing) in it, so a logit at or below
    // `cut` cannot beat the threshold. The score's two float32 roundings move it by at most 2^-24 × (|x - sh| +
    // |score|) ≤ 2^-23 × (|t| + |bs| + |sh| + margin) near the cut, so a margin of 2^-20 × (1 + |t| + |bs| + |sh|)
    // never skips a candidate the exact test would keep. NaN while the heap fills (x <= NaN is false).
    const cutFor = (t: number): number => t - bs + sh - 2 ** -20 * (1 + Math.abs(t) + Math.abs(bs) + Math.abs(sh));
    let cut = size === k ? cutFor(threshold) : NaN;
    const base = row * V;
    for (let v = 0; v < V; v++) {
      const x = logits[base + v]!;
      if (x <= cut) continue;
      const s = shifted ? Math.fround(Math.fround(x - sh) + bs) : Math.fround(x + bs);
      if (size === k) {
        // indices only grow, so a candidate equal to the worst kept one loses the tie: strictly greater only
        if (!(s > threshold)) continue;
        hScore[0] = s;
        hIdx[0] = j * V + v;
        siftDown(hIdx, hScore, 0, size);
        threshold = hScore[0]!;
        cut = cutFor(threshold);
      } else {
        let c = size++;
        hScore[c] = s;
        hIdx[c] = j * V + v;
        while (c > 0) {
          const p = (c - 1) >> 1;
          if (!worse(hScore[c]!, hIdx[c]!, hScore[p]!, hIdx[p]!)) break;
          swap(hIdx, hScore, c, p);
          c = p;
        }
        if (size === k) {
          threshold = hScore[0]!;
          cut = cutFor(threshold);
        }
      }
    }
  }
  // heap sort in place: repeatedly move the worst to the end, so the array ends best first
  for (let end = size - 1; end > 0; end--) {
    swap(hIdx, hScore, 0, end);
    siftDown(hIdx, hScore, 0, end);
  }
  return size;
}

/** Whether candidate a ranks below candidate b (lower score, or the same score at a higher index). */
function worse(sa: number, ia: number, sb: number, ib: number): boolean {
  return sa < sb || (sa === sb && ia > ib);
}

function swap(idx: Int32Array, score: Float32Array, a: number, b: number): void {
  const ti = idx[a]!;
  idx[a] = idx[b]!;
  idx[b] = ti;
  const ts = score[a]!;
  score[a] = score[b]!;
  score[b] = ts;
}

function siftDown(idx: Int32Array, score: Float32Array, start: number, size: number): void {
  let j = start;
  for (;;) {
    const l = 2 * j + 1;
    const r = l + 1;
    let w = j;
    if (l < size && worse(score[l]!, idx[l]!, score[w]!, idx[w]!)) w = l;
    if (r < size && worse(score[r]!, idx[r]!, score[w]!, idx[w]!)) w = r;
    if (w === j) return;
    swap(idx, score, j, w);
    j = w;
  }
}

/**
 * The k-th largest value of a row (k >= 1). For small k a bounded min-heap (one pass, no copy);
 * for large k a quickselect on `scratch` (a buffer at least as long as the row).
 */
export function kthLargest(scores: ArrayLike<number>, k: number, scratch?: Float32Array): number {
  const n = scores.length;
  if (k >= n) {
    let min = Infinity;
    for (let i = 0; i < n; i++) if (scores[i]! < min) min = scores[i]!;
    return min;
  }
  if (k <= 256 || !scratch) return kthLargestHeap(scores, k);
  const a = scratch.subarray(0, n);
  for (let i = 0; i < n; i++) a[i] = scores[i]!;
  return quickselectDescending(a, k - 1);
}

function kthLargestHeap(scores: ArrayLike<number>, k: number): number {
  // heap[0] is the smallest of the k largest seen so far
  const heap = new Float64Array(k);
  let size = 0;
  for (let i = 0; i < scores.length; i++) {
    const v = scores[i]!;
    if (size < k) {
      let j = size++;
      heap[j] = v;
      while (j > 0) {
        const p = (j - 1) >> 1;
        if (heap[p]! <= heap[j]!) break;
        const t = heap[p]!;
        heap[p] = heap[j]!;
        heap[j] = t;
        j = p;
      }
    } else if (v > heap[0]!) {
      heap[0] = v;
      let j = 0;
      for (;;) {
        const l = 2 * j + 1;
        const r = l + 1;
        let s = j;
        if (l < k && heap[l]! < heap[s]!) s = l;
        if (r < k && heap[r]! < heap[s]!) s = r;
        if (s === j) break;
        const t = heap[s]!;
        heap[s] = heap[j]!;
        heap[j] = t;
        j = s;
      }
    }
  }
  return heap[0]!;
}

/** The element that would sit at `rank` (0-based) if `a` were sorted descending; reorders `a`. */
function quickselectDescending(a: Float32Array, rank: number): number {
  let lo = 0;
  let hi = a.length - 1;
  while (lo < hi) {
    const pivot = a[(lo + hi) >> 1]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! > pivot) i++;
      while (a[j]! < pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (rank <= j) hi = j;
    else if (rank >= i) lo = i;
    else return a[rank]!;
  }
  return a[rank]!;
}

/** Sorts out[0..n) by values[out[i]] descending, ties by index ascending. */
export function sortIndicesDescending(out: Int32Array, n: number, values: ArrayLike<number>): void {
  const head = out.subarray(0, n);
  head.sort((a, b) => {
    const d = values[b]! - values[a]!;
    return d !== 0 && !Number.isNaN(d) ? d : a - b;
  });
}
