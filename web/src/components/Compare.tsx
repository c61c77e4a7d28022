// Compare: one prompt continued three ways. Greedy takes the most likely token every step; beam search keeps the
// best few partial texts and returns the best whole one; sampling draws from the distribution after the knobs.
import { useMemo, useState } from 'preact/hooks';
import { api, ApiCallError, isAbort } from '../api.ts';
import type { GenerateRequest, GenerateResponse } from '../api.ts';
import { usePublishExport } from '../export.ts';
import type { GenState } from '../url-state.ts';
import { fixed2 } from '../format.ts';
import { knobFields, type KnobState } from './Knobs.tsx';

/** The generated part of a decoded sequence (the whole text if the prompt does not decode to a prefix of it). */
export function continuation(text: string, prompt: string): string {
  return text.startsWith(prompt) ? text.slice(prompt.length) : text;
}

/**
 * Both scales, labelled, for every column: greedy and sampling report the sum of the chosen log-probabilities; beam
 * search reports that sum ÷ length (length_penalty 1), so the sum is the score × length.
 */
export function scoreLine(beam: boolean, score: number, newTokens: number): string {
  const n = Math.max(1, newTokens);
  const sum = beam ? score * n : score;
  return `sum of log-probabilities ${fixed2(sum)} · per token ${fixed2(sum / n)} (${n} tokens)`;
}

interface Column {
  title: string;
  explain: string;
  request: GenerateRequest;
}

export function Compare({ ids, promptText, knobs, disabled, maxNewTokens, gen, onGen }: { ids: number[]; promptText: string; knobs: KnobState; disabled: boolean; maxNewTokens: number; gen: GenState; onGen: (g: Partial<GenState>) => void }) {
  // max_new_tokens, num_beams and seed are the page's (shared with Beam search and kept in the address)
  const maxNew = gen.max_new_tokens ?? 20;
  const beams = gen.num_beams ?? 4;
  const seed = gen.seed ?? 0;
  const setMaxNew = (v: number): void => onGen({ max_new_tokens: v });
  const setBeams = (v: number): void => onGen({ num_beams: v });
  const setSeed = (v: number): void => onGen({ seed: v });
  const [results, setResults] = useState<(GenerateResponse | string | null)[]>([null, null, null]);
  const [running, setRunning] = useState(false);
  const sampling = knobFields(knobs);
  const columns: Column[] = [
    { title: 'Greedy', explain: 'the most likely token, every step', request: { max_new_tokens: maxNew } },
    {
      title: `Beam search (${beams} beams)`,
      explain: 'the best-scoring whole continuation among the beams',
      request: { max_new_tokens: maxNew, num_beams: beams },
    },
    {
      title: 'Sampling',
      explain:
        `drawn from the distribution after the knobs (${Object.entries(sampling).map(([k, v]) => `${k} ${v}`).join(', ') || 'no knobs: plain softmax'}` +
        `, seed ${seed})`,
      // The knobs are explicit: HF's generate would otherwise add top_k=50 from generation_config's default.
      request: { max_new_tokens: maxNew, do_sample: true, seed, top_k: 0, ...sampling },
    },
  ];
  const [ran, setRan] = useState<GenerateRequest[]>([]);
  // the export: each column's request and the API's answer (or its error message)
  const exported = useMemo(
    () => (results.some((r) => r !== null) ? ran.map((request, i) => ({ title: columns[i]!.title, request, response: results[i] ?? null })) : null),
    [results, ran],
  );
  usePublishExport('compare', exported);
  async function run(): Promise<void> {
    setRan(columns.map((c) => ({ input_ids: ids, ...c.request })));
    setRunning(true);
    const out: (GenerateResponse | string | null)[] = [null, null, null];
    setResults([...out]);
    for (let i = 0; i < columns.length; i++) {
      try {
        out[i] = await api.generate({ input_ids: ids, ...columns[i]!.request });
      } catch (err) {
        if (isAbort(err)) return;
        out[i] = err instanceof ApiCallError ? err.message : String(err);
      }
      setResults([...out]);
    }
    setRunning(false);
  }
  return (
    <div class="compare">
      <div class="controls">
        <label>
          New tokens{' '}
          <input type="number" id="compare-max-new" min={1} max={maxNewTokens} value={maxNew} onInput={(e) => setMaxNew(Number((e.target as HTMLInputElement).value))} />
        </label>
        <label>
          Beams{' '}
          <input type="number" id="compare-beams" min={2} max={8} value={beams} onInput={(e) => setBeams(Number((e.target as HTMLInputElement).value))} />
        </label>
        <label>
          Seed <input type="number" id="compare-seed" min={0} step={1} value={seed} onInput={(e) => setSeed(Number((e.target as HTMLInputElement).value))} />
        </label>
        <button type="button" id="compare-run" class="primary" disabled={disabled || running || ids.length === 0} onClick={run}>
          {running ? 'Running…' : 'Compare'}
        </button>
      </div>
      <div class="compare-columns">
        {columns.map((c, i) => {
          const r = results[i];
          return (
            <section class="compare-col" key={c.title} aria-label={c.title}>
              <h3>{c.title}</h3>
              <p class="hint">{c.explain}</p>
              {typeof r === 'string' && <p class="error">{r}</p>}
              {r && typeof r !== 'string' && (
                <div class="compare-text">
                  <span class="prompt-part">{promptText}</span>
                  <span class="new-part">{continuation(r.sequences[0]!.text, promptText)}</span>
                  <p class="score">{scoreLine(i === 1, r.sequences[0]!.score, r.sequences[0]!.ids.length - ids.length)}</p>
                </div>
              )}
              {r === null && running && <p class="hint">…</p>}
            </section>
          );
        })}
      </div>
    </div>
  );
}
