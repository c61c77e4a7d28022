// Statistics of logits rows that generation needs at every step, in one call over every row: the max, the
// log-sum-exp, the argmax and the non-finite check. rowStatsReference below is the definition (plain TypeScript,
// topk.ts's logSumExp, the arithmetic of its argmax and of non-finite.ts's findNonFiniteLogit); a backend may offer
// a faster `rowStats` (the engine's WebAssembly SIMD kernel, kernels.ts: row_stats), tested against it.
import { logSumExp } from './topk.js';

/** Per-row results, one entry per row (see rowStatsReference for what each holds). */
export interface RowStats {
  /** the largest value of the row, NaN ignored (-Infinity when there is none) */
  readonly max: Float64Array;
  /** log Σ exp(row): max + log(Σ exp(x - max)) in float64, or max itself when max is ±Infinity (a backend's: within 2e-7) */
  readonly lse: Float64Array;
  /** the first index holding the max (0 when none does): torch.argmax on rows without NaN */
  readonly argmax: Int32Array;
  /** the first index (in the row) of a NaN or +Infinity; else 0 for a row of only -Infinity; else -1 */
  readonly bad: Int32Array;
}

/** Computes RowStats for `rows` rows of `n` values of `data` (row r starts at r·n) into `out`. */
export type RowStatsFunction = (data: Float32Array, rows: number, n: number, out: RowStats) => void;

/** A RowStats with room for `rows` rows. */
export function newRowStats(rows: number): RowStats {
  return { max: new Float64Array(rows), lse: new Float64Array(rows), argmax: new Int32Array(rows), bad: new Int32Array(rows) };
}

/** Throws unless `data` holds `rows` rows of `n` and `out` has room for them. */
export function checkRowStatsArgs(data: Float32Array, rows: number, n: number, out: RowStats): void {
  if (!Number.isInteger(rows) || !Number.isInteger(n) || rows < 0 || n < 0 || rows * n > data.length) {
    throw new RangeError(`rowStats: ${rows} rows of ${n} values need ${rows * n} values, the data holds ${data.length}`);
  }
  if (out.max.length < rows || out.lse.length < rows || out.argmax.length < rows || out.bad.length < rows) {
    throw new RangeError(`rowStats: the output has room for fewer than ${rows} rows`);
  }
}

/**
 * The reference: per row, max (NaN ignored), lse (float64; only meaningful on rows without NaN), argmax (the first
 * index of the max; on rows with NaN the kernel may differ, and generation never reads it there: such a row is
 * `bad`), and bad (NaN or +Infinity first, then a row of only -Infinity), as findNonFiniteLogit rules.
 */
export function rowStatsReference(data: Float32Array, rows: number, n: number, out: RowStats): void {
  checkRowStatsArgs(data, rows, n, out);
  for (let r = 0; r < rows; r++) {
    const start = r * n;
    let max = -Infinity;
    let bad = -1;
    for (let i = 0; i < n; i++) {
      const x = data[start + i]!;
      if (x > max) max = x;
      if (bad < 0 && (Number.isNaN(x) || x === Infinity)) bad = i;
    }
    if (bad < 0 && n > 0 && max === -Infinity) bad = 0;
    let argmax = 0;
    for (let i = 0; i < n; i++) {
      if (data[start + i] === max) {
        argmax = i;
        break;
      }
    }
    out.max[r] = max;
    out.lse[r] = logSumExp(data, start, n);
    out.argmax[r] = argmax;
    out.bad[r] = bad;
  }
}
