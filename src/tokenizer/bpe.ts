// Byte-pair encoding inside one pre-token word, with HF GPT2Tokenizer.bpe's exact semantics:
//   start from the word's bytes, one symbol each;
//   repeat: among all adjacent pairs take the one with the lowest merge rank (its line in merges.txt) and merge
//   every occurrence of it, left to right, without overlap ("aaa" with the merge "a a" gives "aa a");
//   stop when no adjacent pair is a merge.
// Symbols are integer ids: a vocabulary id when the symbol's string is in vocab.json, else an extra id above the
// vocabulary (only possible with an odd merges file). Short words use that loop directly (a few dozen lookups);
// long words use a heap, so a 100,000-byte word costs O(n log n) instead of O(n²).

/** An open-addressing hash table from a pair of symbol ids to its merge rank (faster than a Map for this). */
export class MergeTable {
  /** left[r], right[r] and result[r]: the two symbols merge r joins, and the symbol it makes. */
  readonly left: Int32Array;
  readonly right: Int32Array;
  readonly result: Int32Array;
  private readonly keysA: Int32Array;
  private readonly keysB: Int32Array;
  private readonly ranks: Int32Array;
  private readonly mask: number;

  constructor(left: Int32Array, right: Int32Array, result: Int32Array) {
    this.left = left;
    this.right = right;
    this.result = result;
    let cap = 16;
    while (cap < left.length * 2) cap *= 2;
    this.mask = cap - 1;
    this.keysA = new Int32Array(cap).fill(-1);
    this.keysB = new Int32Array(cap);
    this.ranks = new Int32Array(cap);
    for (let r = 0; r < left.length; r++) this.set(left[r]!, right[r]!, r);
  }

  private slot(a: number, b: number): number {
    return (Math.imul(a, 0x9e3779b1) ^ Math.imul(b + 0x7f4a7c15, 0x85ebca77)) >>> 0;
  }

  private set(a: number, b: number, rank: number): void {
    let h = this.slot(a, b) & this.mask;
    for (;;) {
      const k = this.keysA[h]!;
      if (k === -1) {
        this.keysA[h] = a;
        this.keysB[h] = b;
        this.ranks[h] = rank;
        return;
      }
      // HF builds bpe_ranks with dict(zip(merges, range(n))): a repeated merge line keeps its last rank.
      if (k === a && this.keysB[h] === b) {
        this.ranks[h] = rank;
        return;
      }
      h = (h + 1) & this.mask;
    }
  }

  /** The merge rank of the pair (a, b), or -1 when it is not a merge. */
  rank(a: number, b: number): number {
    let h = this.slot(a, b) & this.mask;
    for (;;) {
      const k = this.keysA[h]!;
      if (k === -1) return -1;
      if (k === a && this.keysB[h] === b) return this.ranks[h]!;
      h = (h + 1) & this.mask;
    }
  }
}

/** Above this many symbols a word is merged with the heap; below, with HF's simple loop. */
export const HEAP_THRESHOLD = 48;

/**
 * Runs BPE in place on `sym[0..n)` (symbol ids of single bytes) and returns the number of symbols left.
 * `sym` must have room for n entries; it is overwritten with the merged symbols.
 */
export function bpeMerge(table: MergeTable, sym: Int32Array, n: number): number {
  return n > HEAP_THRESHOLD ? bpeMergeHeap(table, sym, n) : bpeMergeSimple(table, sym, n);
}

/** HF's loop: find the lowest-ranked pair, merge all its occurrences, repeat. O(n²) lookups: for short words. */
export function bpeMergeSimple(table: MergeTable, sym: Int32Array, n: number): number {
  while (n > 1) {
    let best = -1;
    for (let k = 0; k + 1 < n; k++) {
      const r = table.rank(sym[k]!, sym[k + 1]!);
      if (r >= 0 && (best < 0 || r < best)) best = r;
    }
    if (best < 0) break;
    const a = table.left[best]!;
    const b = table.right[best]!;
    const m = table.result[best]!;
    let w = 0;
    for (let k = 0; k < n; ) {
      if (k + 1 < n && sym[k] === a && sym[k + 1] === b) {
        sym[w++] = m;
        k += 2;
      } else sym[w++] = sym[k++]!;
    }
    n = w;
  }
  return n;
}

/**
 * The same result in about O(n log n) for long words: a doubly linked list of symbols, and for every merge rank
 * a bucket of the positions where that pair occurs, with a min-heap of the ranks that have a bucket.
 * One step = HF's one iteration: take the lowest rank, visit its positions left to right (sorted), and merge each
 * one that is still that pair (merging p with its right neighbour q removes q, so "aaa" gives "aa a").
 * The pairs that merges create are filed in buckets that are only visited after this step (the heap of ranks is
 * popped once per step), because HF looks for the next best pair only after merging every occurrence of the
 * current one. Entries made stale by earlier merges are skipped when visited.
 */
export function bpeMergeHeap(table: MergeTable, sym: Int32Array, n: number): number {
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let k = 0; k < n; k++) {
    next[k] = k + 1 < n ? k + 1 : -1;
    prev[k] = k - 1;
  }
  const buckets = new Map<number, number[]>();
  const ranks = new MinHeap();
  // Merges mostly file into the same two or three ranks in a row: remember the last two buckets.
  let r1 = -1;
  let b1: number[] = [];
  let r2 = -1;
  let b2: number[] = [];
  const file = (r: number, p: number): void => {
    if (r === r1) {
      b1.push(p);
      return;
    }
    if (r === r2) {
      b2.push(p);
      return;
    }
    let b = buckets.get(r);
    if (b === undefined) {
      b = [];
      buckets.set(r, b);
      ranks.push(r);
    }
    b.push(p);
    r2 = r1;
    b2 = b1;
    r1 = r;
    b1 = b;
  };
  for (let k = 0; k + 1 < n; k++) {
    const r = table.rank(sym[k]!, sym[k + 1]!);
    if (r >= 0) file(r, k);
  }
  while (ranks.size > 0) {
    const r = ranks.pop();
    const list = buckets.get(r)!;
    buckets.delete(r); // pairs of rank r made during this step go to a new bucket, for a later step
    r1 = r2 = -1;
    let positions: ArrayLike<number> = list;
    for (let k = 1; k < list.length; k++) {
      if (list[k]! < list[k - 1]!) {
        positions = Int32Array.from(list).sort();
        break;
      }
    }
    const m = table.result[r]!;
    for (let k = 0; k < positions.length; k++) {
      const p = positions[k]!;
      const q = next[p]!;
      if (!alive[p] || q < 0 || table.rank(sym[p]!, sym[q]!) !== r) continue; // stale
      sym[p] = m; // [.., p, q, ..] -> [.., p+q, ..]
      alive[q] = 0;
      const after = next[q]!;
      next[p] = after;
      if (after >= 0) prev[after] = p;
      const before = prev[p]!;
      if (before >= 0) {
        const rb = table.rank(sym[before]!, m);
        if (rb >= 0) file(rb, before);
      }
      if (after >= 0) {
        const ra = table.rank(m, sym[after]!);
        if (ra >= 0) file(ra, p);
      }
    }
  }
  let w = 0;
  for (let k = 0; k >= 0; k = next[k]!) sym[w++] = sym[k]!;
  return w;
}

/** A binary min-heap of integers. */
class MinHeap {
  private data = new Int32Array(64);
  size = 0;

  push(x: number): void {
    if (this.size === this.data.length) {
      const bigger = new Int32Array(this.data.length * 2);
      bigger.set(this.data);
      this.data = bigger;
    }
    const d = this.data;
    let i = this.size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (d[parent]! <= x) break;
      d[i] = d[parent]!;
      i = parent;
    }
    d[i] = x;
  }

  pop(): number {
    const d = this.data;
    const top = d[0]!;
    const last = d[--this.size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= this.size) break;
      if (child + 1 < this.size && d[child + 1]! < d[child]!) child++;
      if (d[child]! >= last) break;
      d[i] = d[child]!;
      i = child;
    }
    d[i] = last;
    return top;
  }
}
