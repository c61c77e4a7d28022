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

const POS_SCALE = 4294967296; // heap key = rank * 2^32 + position: lowest rank first, then leftmost

/**
 * The same result in O(n log n): a doubly linked list of symbols and a min-heap of (rank, position) for every
 * adjacent pair that is a merge. Popping in (rank, position) order merges all occurrences of one pair left to
 * right, like HF. Pairs created while merging rank r wait in `pending` until every rank-r pair is done, since HF
 * only looks for the next best pair after finishing the current one. Stale heap entries are skipped on pop.
 */
export function bpeMergeHeap(table: MergeTable, sym: Int32Array, n: number): number {
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const alive = new Uint8Array(n).fill(1);
  for (let k = 0; k < n; k++) {
    next[k] = k + 1 < n ? k + 1 : -1;
    prev[k] = k - 1;
  }
  let heap = new Float64Array(Math.max(16, n));
  let size = 0;
  const push = (key: number): void => {
    if (size === heap.length) {
      const bigger = new Float64Array(heap.length * 2);
      bigger.set(heap);
      heap = bigger;
    }
    let i = size++;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]! <= key) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = key;
  };
  const pop = (): number => {
    const top = heap[0]!;
    const last = heap[--size]!;
    let i = 0;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      if (child + 1 < size && heap[child + 1]! < heap[child]!) child++;
      if (heap[child]! >= last) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
    return top;
  };

  for (let k = 0; k + 1 < n; k++) {
    const r = table.rank(sym[k]!, sym[k + 1]!);
    if (r >= 0) push(r * POS_SCALE + k);
  }
  const pending: number[] = [];
  let phase = -1;
  for (;;) {
    if (pending.length > 0 && (size === 0 || Math.floor(heap[0]! / POS_SCALE) !== phase)) {
      for (const key of pending) push(key);
      pending.length = 0;
    }
    if (size === 0) break;
    const key = pop();
    const r = Math.floor(key / POS_SCALE);
    const p = key - r * POS_SCALE;
    phase = r;
    const q = next[p]!;
    if (!alive[p] || q < 0 || table.rank(sym[p]!, sym[q]!) !== r) continue; // stale
    sym[p] = table.result[r]!; // [.., p, q, ..] -> [.., p+q, ..]
    alive[q] = 0;
    const after = next[q]!;
    next[p] = after;
    if (after >= 0) prev[after] = p;
    const before = prev[p]!;
    if (before >= 0) {
      const rb = table.rank(sym[before]!, sym[p]!);
      if (rb >= 0) pending.push(rb * POS_SCALE + before);
    }
    if (after >= 0) {
      const ra = table.rank(sym[p]!, sym[after]!);
      if (ra >= 0) pending.push(ra * POS_SCALE + p);
    }
  }
  let w = 0;
  for (let k = 0; k >= 0; k = next[k]!) sym[w++] = sym[k]!;
  return w;
}
