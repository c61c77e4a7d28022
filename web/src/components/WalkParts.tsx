// Pieces of the walk through GPT-2: a row of real numbers with its shape, and the gelu_new curve with the values
// that fall on it. Every number shown carries its full value in data-value (for tests and for copying).
import type { CaptureJson } from '../api.ts';
import { attnColor } from '../format.ts';

/** Shows at most this many values of a vector; the rest are counted. */
export const SHOWN = 8;

/** `width` values from `from` in row `index` of a capture whose first dimension is T ([T, ...]: a position's row). */
export function row(c: CaptureJson, index: number, from = 0, width?: number): number[] {
  const w = width ?? c.dims.slice(1).reduce((a, b) => a * b, 1);
  const rowWidth = c.dims.slice(1).reduce((a, b) => a * b, 1);
  return c.data.slice(index * rowWidth + from, index * rowWidth + from + w);
}

const fmt = (x: number): string => (Math.abs(x) >= 1e30 ? '−∞' : Math.abs(x) >= 100 ? x.toFixed(1) : x.toFixed(3));

/** A row of numbers, each cell tinted by its size relative to the row's largest magnitude. */
export function Vec({ values, shape, label, name, all = false }: { values: number[]; shape: string; label: string; name: string; all?: boolean }) {
  const shown = all ? values : values.slice(0, SHOWN);
  let max = 1e-9;
  for (const v of shown) if (Math.abs(v) < 1e30) max = Math.max(max, Math.abs(v));
  return (
    <div class="walk-vec" data-name={name}>
      <span class="walk-vec-label">
        {label} <span class="walk-shape">{shape}</span>
      </span>
      <span class="walk-cells">
        {shown.map((v, i) => (
          <span
            class="walk-cell"
            key={i}
            data-value={v}
            style={{ background: Math.abs(v) >= 1e30 ? '#e2e8f0' : v >= 0 ? `rgba(43,108,176,${Math.min(1, Math.abs(v) / max) * 0.55})` : `rgba(197,48,48,${Math.min(1, Math.abs(v) / max) * 0.55})` }}
          >
            {fmt(v)}
          </span>
        ))}
        {values.length > shown.length && <span class="walk-more">… {values.length - shown.length} more</span>}
      </span>
    </div>
  );
}

/** A row of probabilities (an attention pattern), coloured like the attention heatmap. */
export function ProbRow({ values, tokens, name }: { values: number[]; tokens: string[]; name: string }) {
  return (
    <div class="walk-vec" data-name={name}>
      <span class="walk-cells">
        {values.map((v, i) => (
          <span class="walk-cell" key={i} data-value={v} title={tokens[i]} style={{ background: attnColor(Math.sqrt(v)), color: v > 0.5 ? '#fff' : undefined }}>
            {(v * 100).toFixed(1)}%
          </span>
        ))}
      </span>
    </div>
  );
}

const geluNew = (x: number): number => 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3)));

/** The gelu_new curve from −4 to 4, with a dot for each of `values` (clamped to the drawing). */
export function GeluCurve({ values }: { values: number[] }) {
  const W = 300;
  const H = 150;
  const sx = (x: number): number => ((x + 4) / 8) * W;
  const sy = (y: number): number => H - ((y + 1) / 5) * H;
  let path = '';
  for (let i = 0; i <= 80; i++) {
    const x = -4 + i / 10;
    path += `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(geluNew(x)).toFixed(1)}`;
  }
  return (
    <svg class="walk-gelu" viewBox={`0 0 ${W} ${H}`} width={W} height={H} style={{ maxWidth: '100%', height: 'auto' }} role="img" aria-label="The gelu_new curve with this position's values on it">
      <line x1={0} x2={W} y1={sy(0)} y2={sy(0)} stroke="#cbd2d9" />
      <line x1={sx(0)} x2={sx(0)} y1={0} y2={H} stroke="#cbd2d9" />
      <path d={path} fill="none" stroke="#2b6cb0" stroke-width={2} />
      {values.map((x, i) => {
        const cx = Math.max(-4, Math.min(4, x));
        return <circle key={i} class="walk-gelu-dot" cx={sx(cx)} cy={sy(geluNew(cx))} r={3} fill="#c05621" fill-opacity={0.6} />;
      })}
    </svg>
  );
}
