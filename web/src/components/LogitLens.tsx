// The logit lens: the residual stream after each layer, read out as if it were the last (ln_f, then the tied
// unembedding, then softmax). Each cell shows the token that layer would predict next at that position; you can
// watch the guess form as the layers go by. The bottom row is the model's real prediction.
import type { ForwardResponse } from '../api.ts';
import { percent, probColor, visible } from '../format.ts';
import { Legend } from './Legend.tsx';

export function LogitLens({ data }: { data: ForwardResponse }) {
  const lens = data.lens ?? [];
  if (!lens.length) return <p>No logit lens in the answer.</p>;
  const n = lens.length - 1;
  return (
    <div class="lens">
      <p class="hint">
        Columns are positions in the prompt; each cell is the top next-token guess after that many layers, coloured by
        its probability (hover for the runners-up). Row 0 reads the embeddings alone; the last row is the model's output.
      </p>
      <Legend id="lens-legend" color={probColor} scale="linear" label="Probability of the top token" />
      <div class="lens-scroll" tabIndex={0}>
        <table class="lens-table">
          <thead>
            <tr>
              <th scope="col">after</th>
              {data.tokens.map((t, i) => (
                <th scope="col" key={i}>
                  <span class="chip small">{visible(t)}</span>
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {lens.map((row, layer) => (
              <tr key={layer} class={layer === n ? 'final' : undefined}>
                <th scope="row">{layer === 0 ? 'embeddings' : layer === n ? `block ${layer} (output)` : `block ${layer}`}</th>
                {row.map((cands, t) => {
                  const best = cands[0]!;
                  return (
                    <td
                      key={t}
                      style={{ background: probColor(best.prob) }}
                      title={cands.map((c) => `${JSON.stringify(c.token)} ${percent(c.prob)}`).join('\n')}
                    >
                      <span class="lens-token">{visible(best.token)}</span>
                      <span class="lens-p">{percent(best.prob)}</span>
                    </td>
                  );
                })}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
