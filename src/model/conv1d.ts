// GPT-2's "Conv1D" is a plain linear layer whose weight is stored [in, out] (not torch.nn.Linear's [out, in]):
// y = x @ W + b.
import type { Conv1DWeights } from './types.js';

/** x: [M, nx] → [M, nf] */
export function conv1d(x: Float32Array, M: number, layer: Conv1DWeights): Float32Array {
  const { weight: W, bias, nx, nf } = layer;
  const y = new Float32Array(M * nf);
  const acc = new Float64Array(nf); // one output row, accumulated in float64
  // Loop order i-k-j: for each row i of x, add x[i,k] · W[k,:] for every k. The inner loop walks a row of W and
  // the accumulator contiguously, so W streams through memory row by row. Four rows of W per pass (k..k+3)
  // quarter the accumulator's loads and stores.
  for (let i = 0; i < M; i++) {
    const xi = i * nx;
    for (let j = 0; j < nf; j++) acc[j] = bias[j]!;
    let k = 0;
    for (; k + 4 <= nx; k += 4) {
      const a0 = x[xi + k]!;
      const a1 = x[xi + k + 1]!;
      const a2 = x[xi + k + 2]!;
      const a3 = x[xi + k + 3]!;
      const w0 = k * nf;
      const w1 = w0 + nf;
      const w2 = w1 + nf;
      const w3 = w2 + nf;
      for (let j = 0; j < nf; j++) acc[j] += a0 * W[w0 + j]! + a1 * W[w1 + j]! + a2 * W[w2 + j]! + a3 * W[w3 + j]!;
    }
    for (; k < nx; k++) {
      const a = x[xi + k]!;
      const w = k * nf;
      for (let j = 0; j < nf; j++) acc[j] += a * W[w + j]!;
    }
    for (let j = 0; j < nf; j++) y[i * nf + j] = acc[j]!;
  }
  return y;
}
