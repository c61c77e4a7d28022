// LayerNorm over the last dimension: y = (x - mean) / sqrt(var + eps) * weight + bias,
// with the biased variance (divide by C), as torch.nn.LayerNorm.
import type { LayerNormWeights } from './types.js';

/** x: [M, C] → [M, C] */
export function layerNorm(x: Float32Array, M: number, C: number, ln: LayerNormWeights, eps: number): Float32Array {
  const y = new Float32Array(M * C);
  for (let i = 0; i < M; i++) {
    const row = i * C;
    let mean = 0;
    for (let c = 0; c < C; c++) mean += x[row + c]!;
    mean /= C;
    let variance = 0;
    for (let c = 0; c < C; c++) {
      const d = x[row + c]! - mean;
      variance += d * d;
    }
    variance /= C; // biased, as torch
    const rstd = 1 / Math.sqrt(variance + eps);
    for (let c = 0; c < C; c++) y[row + c] = (x[row + c]! - mean) * rstd * ln.weight[c]! + ln.bias[c]!;
  }
  return y;
}
