// Small helpers for reading logits: top-k, softmax, log-sum-exp (float64 arithmetic).

/** The k largest values of row[offset .. offset+n), descending (ties: the lower id first). */
export function topK(row: ArrayLike<number>, k: number, offset = 0, n = row.length - offset): { ids: number[]; values: number[] } {
  const ids: number[] = [];
  const values: number[] = [];
  for (let i = 0; i < n; i++) {
    const v = row[offset + i]!;
    if (ids.length === k && !(v > values[k - 1]!)) continue;
    let j = ids.length < k ? ids.length : k - 1;
    while (j > 0 && v > values[j - 1]!) j--;
    ids.splice(j, 0, i);
    values.splice(j, 0, v);
    if (ids.length > k) {
      ids.pop();
      values.pop();
    }
  }
  return { ids, values };
}

/** log Σ exp(row[i]) over row[offset .. offset+n), computed stably in float64 (±Infinity when the max is). */
export function logSumExp(row: ArrayLike<number>, offset = 0, n = row.length - offset): number {
  let max = -Infinity;
  for (let i = 0; i < n; i++) if (row[offset + i]! > max) max = row[offset + i]!;
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let i = 0; i < n; i++) sum += Math.exp(row[offset + i]! - max);
  return max + Math.log(sum);
}

/** softmax of row[offset .. offset+n) as float64. */
export function softmax(row: ArrayLike<number>, offset = 0, n = row.length - offset): Float64Array {
  const lse = logSumExp(row, offset, n);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.exp(row[offset + i]! - lse);
  return out;
}

/** Index of the largest value (the first one on ties), as torch.argmax. */
export function argmax(row: ArrayLike<number>, offset = 0, n = row.length - offset): number {
  let best = 0;
  for (let i = 1; i < n; i++) if (row[offset + i]! > row[offset + best]!) best = i;
  return best;
}
