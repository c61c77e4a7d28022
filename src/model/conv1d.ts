// GPT-2's "Conv1D" is a plain linear layer whose weight is stored [in, out] (not torch.nn.Linear's [out, in]):
// y = x @ W + b.
import type { Conv1DWeights } from './types.js';

/** Rows of x processed together, so each row of W, once loaded, serves this many rows of x. */
const ROW_TILE = 16;

/** x: [M, nx] → [M, nf] */
export function conv1d(x: Float32Array, M: number, layer: Conv1DWeights): Float32Array {
  const { weight: W, bias, nx, nf } = layer;
  const y = new Float32Array(M * nf);
  const acc = new Float64Array(Math.min(M, ROW_TILE) * nf); // float64 accumulators for one tile of rows
  for (let i0 = 0; i0 < M; i0 += ROW_TILE) {
    const rows = Math.min(ROW_TILE, M - i0);
    for (let r = 0; r < rows; r++) for (let j = 0; j < nf; j++) acc[r * nf + j] = bias[j]!;
    // Loop order k-i-j: the inner loop walks one row of W and one row of y contiguously.
    for (let k = 0; k < nx; k++) {
      const wRow = k * nf;
      for (let r = 0; r < rows; r++) {
        const a = x[(i0 + r) * nx + k]!;
        const out = r * nf;
        for (let j = 0; j < nf; j++) acc[out + j] += a * W[wRow + j]!;
      }
    }
    for (let r = 0; r < rows; r++) for (let j = 0; j < nf; j++) y[(i0 + r) * nf + j] = acc[r * nf + j]!;
  }
  return y;
}
