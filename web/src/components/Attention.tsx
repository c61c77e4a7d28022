// Attention: for one layer and head, how much each position (a row) looks at each earlier position (a column).
// The heatmap shows the whole matrix; the lines view shows, for the hovered token, where its attention goes.
import { useEffect, useRef, useState } from 'preact/hooks';
import type { ForwardResponse } from '../api.ts';
import { attnColor, percent, visible } from '../format.ts';
import { Legend } from './Legend.tsx';

const CELL_MAX = 44;
const CELL_MIN = 6;

function Heatmap({ matrix, tokens, focus, setFocus }: { matrix: number[][]; tokens: string[]; focus: number | null; setFocus: (t: number | null) => void }) {
  const T = tokens.length;
  const cell = Math.max(CELL_MIN, Math.min(CELL_MAX, Math.floor(420 / Math.max(T, 1))));
  const label = T <= 40 ? 92 : 0;
  const size = T * cell;
  return (
    <svg
      class="heatmap"
      data-export="attention-heatmap"
      width={label + size + 4}
      height={label + size + 4}
      viewBox={`0 0 ${label + size + 4} ${label + size + 4}`}
      style={{ maxWidth: '100%', height: 'auto' }}
      role="img"
      aria-label="Attention heatmap: rows attend to columns"
    >
      {label > 0 &&
        tokens.map((tok, i) => (
          <g key={`l${i}`}>
            <text class={`axis${focus === i ? ' focus' : ''}`} x={label - 4} y={label + i * cell + cell / 2 + 4} text-anchor="end">
              {visible(tok).slice(0, 12)}
            </text>
            <text
              class={`axis${focus === i ? ' focus' : ''}`}
              transform={`translate(${label + i * cell + cell / 2 + 4}, ${label - 4}) rotate(-60)`}
            >
              {visible(tok).slice(0, 12)}
            </text>
          </g>
        ))}
      <g transform={`translate(${label}, ${label})`} onMouseLeave={() => setFocus(null)}>
        {matrix.map((row, q) =>
          row.slice(0, q + 1).map((w, k) => (
            <rect
              key={`${q}-${k}`}
              x={k * cell}
              y={q * cell}
              width={cell - 1}
              height={cell - 1}
              fill={attnColor(Math.sqrt(w))}
              class={focus === q ? 'focus-row' : undefined}
              onMouseEnter={() => setFocus(q)}
              onClick={() => setFocus(q)}
            >
              <title>{`${JSON.stringify(tokens[q])} → ${JSON.stringify(tokens[k])}: ${percent(w)}`}</title>
            </rect>
          )),
        )}
      </g>
    </svg>
  );
}

/** A thumbnail of one head's pattern (a canvas: cheap even for 12 heads of 128 tokens), used as the head picker. */
function MiniMap({ matrix }: { matrix: number[][] }) {
  const ref = useRef<HTMLCanvasElement>(null);
  const size = 44;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    if (!ctx) return;
    const T = matrix.length;
    const cell = size / T;
    ctx.clearRect(0, 0, size, size);
    for (let q = 0; q < T; q++) {
      for (let k = 0; k <= q; k++) {
        ctx.fillStyle = attnColor(Math.sqrt(matrix[q]![k]!));
        ctx.fillRect(k * cell, q * cell, Math.ceil(cell), Math.ceil(cell));
      }
    }
  }, [matrix]);
  return <canvas ref={ref} width={size} height={size} aria-hidden="true" />;
}

/** Two columns of tokens; from the focused token on the left, a line to each token on the right, as thick as its weight. */
function Lines({ matrix, tokens, focus, setFocus }: { matrix: number[][]; tokens: string[]; focus: number | null; setFocus: (t: number | null) => void }) {
  const T = tokens.length;
  const rowH = T > 40 ? 16 : 24;
  const colW = 120;
  const gap = 140;
  const right = 190;
  const height = T * rowH + 8;
  const weights = focus === null ? null : matrix[focus]!;
  return (
    // a viewBox, so that at phone width the drawing shrinks instead of clipping the percentages at the right edge
    <svg
      class="lines"
      width={colW + gap + right}
      height={height}
      viewBox={`0 0 ${colW + gap + right} ${height}`}
      style={{ maxWidth: '100%', height: 'auto' }}
      role="img"
      aria-label="Attention lines from the hovered token"
    >
      {weights &&
        weights.slice(0, focus! + 1).map((w, k) =>
          w < 0.01 ? null : (
            <line
              key={k}
              x1={colW}
              y1={focus! * rowH + rowH / 2}
              x2={colW + gap}
              y2={k * rowH + rowH / 2}
              stroke="#2b6cb0"
              stroke-opacity={Math.min(1, 0.15 + w)}
              stroke-width={1 + w * 8}
            />
          ),
        )}
      {tokens.map((tok, i) => (
        <g key={i}>
          <text
            class={`tok from${focus === i ? ' focus' : ''}`}
            x={colW - 6}
            y={i * rowH + rowH / 2 + 4}
            text-anchor="end"
            tabIndex={0}
            onMouseEnter={() => setFocus(i)}
            onClick={() => setFocus(i)}
            onFocus={() => setFocus(i)}
          >
            {visible(tok).slice(0, 14)}
          </text>
          <text class="tok to" x={colW + gap + 6} y={i * rowH + rowH / 2 + 4} style={weights && i <= focus! ? { fontWeight: weights[i]! > 0.2 ? 700 : 400 } : undefined}>
            {visible(tok).slice(0, 14)}
            {weights && i <= focus! && weights[i]! >= 0.01 ? `  ${percent(weights[i]!)}` : ''}
          </text>
        </g>
      ))}
    </svg>
  );
}

export function Attention({ data }: { data: ForwardResponse }) {
  const atts = data.attentions ?? [];
  const [layer, setLayer] = useState(0);
  const [head, setHead] = useState(0);
  const [focus, setFocus] = useState<number | null>(data.tokens.length - 1);
  if (!atts.length) return <p>No attentions in the answer.</p>;
  const L = Math.min(layer, atts.length - 1);
  const H = Math.min(head, atts[L]!.length - 1);
  const matrix = atts[L]![H]!;
  const f = focus !== null && focus < data.tokens.length ? focus : null;
  return (
    <div class="attention">
      <div class="controls">
        <label>
          Layer{' '}
          <select id="attn-layer" value={L} onChange={(e) => setLayer(Number((e.target as HTMLSelectElement).value))}>
            {atts.map((_, i) => (
              <option value={i} key={i}>
                {i}
              </option>
            ))}
          </select>
        </label>
        <span class="heads" role="radiogroup" aria-label="Head">
          Head
          {atts[L]!.map((m, i) => (
            <button type="button" key={i} role="radio" aria-checked={i === H} aria-label={`head ${i}`} class={`head${i === H ? ' on' : ''}`} onClick={() => setHead(i)}>
              <MiniMap matrix={m} />
              <span class="head-n">{i}</span>
            </button>
          ))}
        </span>
      </div>
      <p class="hint">
        Row = the token doing the looking, column = the token looked at. A token sees only itself and earlier tokens
        (the causal mask), and each row adds up to 100%. Hover or tap a row or a token on the left.
      </p>
      <Legend id="attn-legend" color={attnColor} scale="sqrt" label="Attention weight" />
      <div class="attention-views">
        <Heatmap matrix={matrix} tokens={data.tokens} focus={f} setFocus={setFocus} />
        <Lines matrix={matrix} tokens={data.tokens} focus={f} setFocus={setFocus} />
      </div>
    </div>
  );
}
