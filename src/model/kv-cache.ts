// The KV cache ("past_key_values"): every layer's keys and values for the positions already processed, so a
// decode step only computes the new token's q, k, v and attends over the stored ones.
//
// Layout per layer: key and value are [B, n_head, capacity, head_dim] Float32Arrays; positions 0..length-1 are
// filled. Memory is preallocated with room to grow (doubling), so appending one token costs O(1) amortised
// instead of HF's O(T) torch.cat.
//
// A reorder that keeps the batch size (beam search, every step) moves no floats: it composes a row map, "position t
// of row i is stored in row rowMap[t * batch + i]", in O(length × batch) integers. The rows are put in place (one
// copy) only when someone reads `keys` or `values` (the reference path's attention, clone, toTensors, an engine
// mirror's upload). The wasm engine replays reorders in its own memory (rowsSince) and writes new positions through
// write(), so with it the JS copy is never made during beam search.
import type { GPT2Config, Tensor } from './types.js';

export interface KVCacheShape {
  n_layer: number;
  n_head: number;
  head_dim: number;
  /** the most positions the model accepts (n_positions); the cache never grows past it */
  max_positions: number;
}

/** How many reorders a KVCache remembers for rowsSince (beam search: one per step, synced every step). */
const REORDER_LOG = 8;

export class KVCache {
  readonly n_layer: number;
  readonly n_head: number;
  readonly head_dim: number;
  readonly max_positions: number;
  /** batch size B (beam search: batch × num_beams rows) */
  batch: number;
  /** positions stored so far (HF: past_key_values[0][0].shape[2]) */
  length = 0;
  /** positions the buffers hold before they must grow */
  capacity: number;
  /** the buffers as stored: row order given by rowMap when it is set */
  private storedKeys: Float32Array[];
  private storedValues: Float32Array[];
  /**
   * [capacity × batch], t-major: position t of row i is stored in row rowMap[t * batch + i] (positions < length);
   * null when every row is in place. Positions at or past `length` (being written) are always in place.
   */
  private rowMap: Int32Array | null = null;
  /** the end of the latest write(): positions length..written-1 are written but not yet advanced */
  private written = 0;
  /** bumped whenever rows move (reorder/select/expand), so a backend mirroring the cache knows to re-read it */
  version = 0;
  /** bumped by every advance(), so a mirror knows whether positions were written since it last matched */
  writes = 0;
  /**
   * The row lists of the latest reorders, oldest first: entry i took the cache from version `logBase + i` to
   * the next. A mirror of the cache (the wasm engine's) replays them with `rowsSince` instead of re-reading
   * every layer. Only the last REORDER_LOG entries are kept.
   */
  private log: number[][] = [];
  private logBase = 0;
  /** the buffers a previous reorder replaced, reused by the next one */
  private spare: { keys: Float32Array[]; values: Float32Array[] } | undefined;

  constructor(shape: KVCacheShape, batch: number, capacity = 16) {
    if (!Number.isInteger(batch) || batch <= 0) throw new Error(`KVCache: batch must be a positive integer, got ${batch}`);
    this.n_layer = shape.n_layer;
    this.n_head = shape.n_head;
    this.head_dim = shape.head_dim;
    this.max_positions = shape.max_positions;
    this.batch = batch;
    this.capacity = Math.max(1, Math.min(capacity, shape.max_positions));
    const size = batch * this.n_head * this.capacity * this.head_dim;
    this.storedKeys = Array.from({ length: this.n_layer }, () => new Float32Array(size));
    this.storedValues = Array.from({ length: this.n_layer }, () => new Float32Array(size));
  }

  /** keys[layer]: [B, n_head, capacity, head_dim], rows in place (a pending reorder is applied first) */
  get keys(): Float32Array[] {
    this.settle();
    return this.storedKeys;
  }

  /** values[layer]: [B, n_head, capacity, head_dim], rows in place (a pending reorder is applied first) */
  get values(): Float32Array[] {
    this.settle();
    return this.storedValues;
  }

  /** Applies the row map: copies every row's positions into place (runs of positions from one row at a time). */
  private settle(): void {
    const map = this.rowMap;
    if (!map) return;
    this.rowMap = null;
    const B = this.batch;
    const nh = this.n_head;
    const hs = this.head_dim;
    const cap = this.capacity;
    const L = this.length;
    const end = Math.max(L, Math.min(this.written, cap)); // written, not yet advanced: in place
    const size = B * nh * cap * hs;
    const place = (old: Float32Array, spare: Float32Array | undefined): Float32Array => {
      const next = spare && spare.length === size ? spare : new Float32Array(size);
      for (let i = 0; i < B; i++) {
        let t = 0;
        while (t < end) {
          const r = t < L ? map[t * B + i]! : i;
          let u = t + 1;
          while (u < end && (u < L ? map[u * B + i]! : i) === r) u++;
          for (let h = 0; h < nh; h++) {
            const src = ((r * nh + h) * cap + t) * hs;
            next.set(old.subarray(src, src + (u - t) * hs), ((i * nh + h) * cap + t) * hs);
          }
          t = u;
        }
      }
      return next;
    };
    const keys = this.storedKeys.map((k, l) => place(k, this.spare?.keys[l]));
    const values = this.storedValues.map((v, l) => place(v, this.spare?.values[l]));
    this.spare = { keys: this.storedKeys, values: this.storedValues };
    this.storedKeys = keys;
    this.storedValues = values;
  }

  /** An empty cache shaped for `config`, with room for `capacity` positions (default: 16, it grows as needed). */
  static forConfig(config: GPT2Config, batch: number, capacity?: number): KVCache {
    const shape = { n_layer: config.n_layer, n_head: config.n_head, head_dim: config.n_embd / config.n_head, max_positions: config.n_positions };
    return new KVCache(shape, batch, capacity);
  }

  /** Makes room for `total` positions, copying into larger buffers when needed (capacity at least doubles). */
  ensureCapacity(total: number): void {
    if (total <= this.capacity) return;
    if (total > this.max_positions) throw new Error(`KVCache: ${total} positions exceed n_positions ${this.max_positions}`);
    const newCap = Math.min(this.max_positions, Math.max(total, 2 * this.capacity));
    const hs = this.head_dim;
    const grow = (old: Float32Array): Float32Array => {
      const next = new Float32Array(this.batch * this.n_head * newCap * hs);
      for (let bh = 0; bh < this.batch * this.n_head; bh++) {
        // copy the filled rows of one (b, h) slice: [length, hs]
        next.set(old.subarray(bh * this.capacity * hs, (bh * this.capacity + this.length) * hs), bh * newCap * hs);
      }
      return next;
    };
    this.storedKeys = this.storedKeys.map(grow);
    this.storedValues = this.storedValues.map(grow);
    if (this.rowMap) {
      const map = new Int32Array(newCap * this.batch);
      map.set(this.rowMap.subarray(0, this.length * this.batch));
      this.rowMap = map;
    }
    this.capacity = newCap;
    this.spare = undefined;
  }

  /**
   * Writes the new positions' keys and values of one layer, k and v given as [B, n_head, T, head_dim],
   * at positions length..length+T-1. Call `advance(T)` once after every layer has been written.
   */
  write(layer: number, k: Float32Array, v: Float32Array, T: number): void {
    this.ensureCapacity(this.length + T);
    const hs = this.head_dim;
    // stored rows: positions from length on are in place whatever the row map says
    const K = this.storedKeys[layer]!;
    const V = this.storedValues[layer]!;
    const n = T * hs; // floats per (b, h) slice: a decode step writes one position (a plain loop beats subarray + set)
    for (let bh = 0; bh < this.batch * this.n_head; bh++) {
      const dst = (bh * this.capacity + this.length) * hs;
      const src = bh * n;
      if (n > 256) {
        K.set(k.subarray(src, src + n), dst);
        V.set(v.subarray(src, src + n), dst);
      } else {
        for (let j = 0; j < n; j++) {
          K[dst + j] = k[src + j]!;
          V[dst + j] = v[src + j]!;
        }
      }
    }
    this.written = this.length + T;
  }

  /** Marks T more positions as stored (after `write` for every layer). */
  advance(T: number): void {
    const map = this.rowMap;
    if (map) for (let t = this.length; t < this.length + T; t++) for (let i = 0; i < this.batch; i++) map[t * this.batch + i] = i;
    this.length += T;
    this.writes++;
  }

  /** Offset of position t of batch row b, head h, in keys[layer] / values[layer]. */
  offset(b: number, h: number, t: number): number {
    return ((b * this.n_head + h) * this.capacity + t) * this.head_dim;
  }

  /**
   * Keeps or repeats batch rows: row i of the result is old row `rows[i]`. This is HF's `_reorder_cache`
   * (beam search: `rows` = beam_idx), and also selects (drop finished rows) or expands (repeat rows).
   */
  reorder(rows: readonly number[]): this {
    for (const r of rows) {
      if (!Number.isInteger(r) || r < 0 || r >= this.batch) throw new Error(`KVCache.reorder: row ${r} is out of range for batch ${this.batch}`);
    }
    if (rows.length === this.batch && rows.every((r, i) => r === i)) return this; // nothing moves
    if (rows.length === this.batch) {
      // same batch size: compose the row map, move nothing (see the top of this file)
      const B = this.batch;
      let map = this.rowMap;
      if (!map) {
        map = new Int32Array(this.capacity * B);
        for (let t = 0; t < this.length; t++) for (let i = 0; i < B; i++) map[t * B + i] = i;
        this.rowMap = map;
      }
      const tmp = new Int32Array(B);
      for (let t = 0; t < this.length; t++) {
        const o = t * B;
        for (let i = 0; i < B; i++) tmp[i] = map[o + rows[i]!]!;
        map.set(tmp, o);
      }
      this.logReorder(rows);
      return this;
    }
    this.settle();
    const hs = this.head_dim;
    const slice = this.n_head * this.capacity * hs; // one batch row: [n_head, capacity, hs]
    const size = rows.length * slice;
    const pick = (old: Float32Array, spare: Float32Array | undefined): Float32Array => {
      const next = spare && spare.length === size ? spare : new Float32Array(size);
      rows.forEach((r, i) => {
        // copy only the filled positions of each head: [length, hs] of [capacity, hs]
        for (let h = 0; h < this.n_head; h++) {
          const src = (r * this.n_head + h) * this.capacity * hs;
          next.set(old.subarray(src, src + this.length * hs), (i * this.n_head + h) * this.capacity * hs);
        }
      });
      return next;
    };
    // Beam search reorders every step with the same batch size: the previous buffers become the next spares,
    // so a step copies the filled positions once and allocates nothing.
    const keys = this.storedKeys.map((k, l) => pick(k, this.spare?.keys[l]));
    const values = this.storedValues.map((v, l) => pick(v, this.spare?.values[l]));
    this.spare = { keys: this.storedKeys, values: this.storedValues };
    this.storedKeys = keys;
    this.storedValues = values;
    this.batch = rows.length;
    this.logReorder(rows);
    return this;
  }

  /** Records a reorder for rowsSince and bumps the version. */
  private logReorder(rows: readonly number[]): void {
    this.log.push([...rows]);
    if (this.log.length > REORDER_LOG) {
      this.log.shift();
      this.logBase++;
    }
    this.version++;
  }

  /**
   * Where each row came from since `version` (an earlier value of `this.version`): row i now holds what row
   * `rows[i]` held then (the reorders in between, composed). null when that is no longer known (more than
   * REORDER_LOG reorders ago, or a version this cache never had).
   */
  rowsSince(version: number): number[] | null {
    if (!Number.isInteger(version) || version < this.logBase || version > this.version) return null;
    let rows: number[] | null = null;
    for (const step of this.log.slice(version - this.logBase)) {
      // after `rows`, row j holds old row rows[j]; after `step`, row i holds row step[i] of that
      rows = rows ? step.map((r) => rows![r]!) : [...step];
    }
    return rows ?? Array.from({ length: this.batch }, (_, i) => i);
  }

  /** Keeps only the given batch rows, in that order (same as reorder). */
  select(rows: readonly number[]): this {
    return this.reorder(rows);
  }

  /** Repeats every row n times in place (torch.repeat_interleave on dim 0): B → B·n, as beam search starts. */
  expand(n: number): this {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`KVCache.expand: n must be a positive integer, got ${n}`);
    const rows: number[] = [];
    for (let b = 0; b < this.batch; b++) for (let i = 0; i < n; i++) rows.push(b);
    return this.reorder(rows);
  }

  /**
   * Keeps only the first `length` positions (HF's DynamicCache.crop): the next forward pass continues from there.
   * The rows, buffers and version stay; a backend's mirror shortens itself to match (no copy).
   */
  crop(length: number): this {
    if (!Number.isInteger(length) || length < 0 || length > this.length) throw new Error(`KVCache.crop: length must be an integer in [0, ${this.length}], got ${length}`);
    this.length = length;
    return this;
  }

  /** A deep copy with room for exactly the stored positions (or `capacity`). */
  clone(capacity = this.length): KVCache {
    const shape = { n_layer: this.n_layer, n_head: this.n_head, head_dim: this.head_dim, max_positions: this.max_positions };
    const copy = new KVCache(shape, this.batch, Math.max(capacity, this.length, 1));
    for (let l = 0; l < this.n_layer; l++) {
      for (let bh = 0; bh < this.batch * this.n_head; bh++) {
        const src = bh * this.capacity * this.head_dim;
        const dst = bh * copy.capacity * this.head_dim;
        copy.keys[l]!.set(this.keys[l]!.subarray(src, src + this.length * this.head_dim), dst);
        copy.values[l]!.set(this.values[l]!.subarray(src, src + this.length * this.head_dim), dst);
      }
    }
    copy.length = this.length;
    return copy;
  }

  /** HF's legacy tuple form: per layer [key, value], each a [B, n_head, length, head_dim] tensor (copies). */
  toTensors(): Array<[key: Tensor, value: Tensor]> {
    const hs = this.head_dim;
    const dims = [this.batch, this.n_head, this.length, hs];
    const compact = (buf: Float32Array): Tensor => {
      const data = new Float32Array(this.batch * this.n_head * this.length * hs);
      for (let bh = 0; bh < this.batch * this.n_head; bh++) {
        data.set(buf.subarray(bh * this.capacity * hs, (bh * this.capacity + this.length) * hs), bh * this.length * hs);
      }
      return { data, dims: [...dims] };
    };
    return this.keys.map((k, l) => [compact(k), compact(this.values[l]!)]);
  }
}
