// The beam search view: its settings, the tree growing step by step as the server streams beam events (one as each
// step is done), and the finished hypotheses ranked by score.
import { useRef, useState } from 'preact/hooks';
import { ApiCallError, generateStream, isAbort } from '../api.ts';
import type { BeamEvent, GenerateResponse } from '../api.ts';
import { fixed2 } from '../format.ts';
import { BeamTree, buildBeamTree } from './BeamTree.tsx';
import { continuation } from './Compare.tsx';

/** `maxNewTokens`: the server's limit (the field allows what the API allows; the API's error shows under a field). */
export function BeamPanel({ ids, promptText, disabled, maxNewTokens }: { ids: number[]; promptText: string; disabled: boolean; maxNewTokens: number }) {
  const [numBeams, setNumBeams] = useState(3);
  const [maxNew, setMaxNew] = useState(6);
  const [lengthPenalty, setLengthPenalty] = useState(1);
  const [earlyStopping, setEarlyStopping] = useState<'false' | 'true' | 'never'>('false');
  const [events, setEvents] = useState<BeamEvent[]>([]);
  const [ranPenalty, setRanPenalty] = useState(1); // the length penalty of the run the tree shows
  const [result, setResult] = useState<GenerateResponse | null>(null);
  const [error, setError] = useState<{ message: string; param: string | null } | null>(null);
  const [running, setRunning] = useState(false);
  const abort = useRef<AbortController | null>(null);

  async function run(): Promise<void> {
    abort.current?.abort();
    const ctrl = new AbortController();
    abort.current = ctrl;
    setRunning(true);
    setEvents([]);
    setRanPenalty(lengthPenalty);
    setResult(null);
    setError(null);
    const got: BeamEvent[] = [];
    try {
      const res = await generateStream(
        {
          input_ids: ids,
          num_beams: numBeams,
          num_return_sequences: numBeams,
          max_new_tokens: maxNew,
          length_penalty: lengthPenalty,
          early_stopping: earlyStopping === 'never' ? 'never' : earlyStopping === 'true',
        },
        {
          beam: (e) => {
            got.push(e);
            setEvents([...got]);
          },
        },
        ctrl.signal,
      );
      setResult(res);
    } catch (err) {
      if (!isAbort(err)) setError(err instanceof ApiCallError ? { message: err.message, param: err.param } : { message: String(err), param: null });
    } finally {
      if (abort.current === ctrl) setRunning(false);
    }
  }

  const root = buildBeamTree(promptText, events, ranPenalty);
  return (
    <div class="beam">
      <div class="controls">
        <label>
          Beams{' '}
          <input type="number" id="beam-num" min={2} max={8} value={numBeams} onInput={(e) => setNumBeams(Number((e.target as HTMLInputElement).value))} />
        </label>
        <label>
          New tokens{' '}
          <input type="number" id="beam-max-new" min={1} max={maxNewTokens} value={maxNew} onInput={(e) => setMaxNew(Number((e.target as HTMLInputElement).value))} />
        </label>
        <label>
          Length penalty{' '}
          <input type="number" step={0.1} value={lengthPenalty} onInput={(e) => setLengthPenalty(Number((e.target as HTMLInputElement).value))} />
        </label>
        <label>
          Early stopping{' '}
          <select value={earlyStopping} onChange={(e) => setEarlyStopping((e.target as HTMLSelectElement).value as 'false' | 'true' | 'never')}>
            <option value="false">false (HF default)</option>
            <option value="true">true</option>
            <option value="never">never</option>
          </select>
        </label>
        <button type="button" id="beam-run" class="primary" disabled={disabled || running || ids.length === 0} onClick={run}>
          {running ? 'Searching…' : 'Run beam search'}
        </button>
        {running && (
          <button type="button" onClick={() => abort.current?.abort()}>
            Stop
          </button>
        )}
      </div>
      <p class="hint">
        Each step every beam proposes its best next tokens; the {numBeams} best partial texts by total log-probability
        are kept (blue), the rest are pruned (grey); a hollow grey node was kept, but its line died out later. A
        hypothesis ends when it picks the end-of-text token or reaches the length limit; numbers in rings are the ranks.
      </p>
      {error && (
        <p class="error" role="alert" id="beam-error" data-param={error.param ?? undefined}>
          {error.param ? `${error.param}: ` : ''}
          {error.message}
        </p>
      )}
      {events.length > 0 && <BeamTree root={root} />}
      {result && (
        <ol class="hypotheses" aria-label="Finished hypotheses, best first">
          {result.sequences.map((s, i) => (
            <li key={i}>
              <span class="score">{fixed2(s.score)}</span>{' '}
              <span class="score-sum" title="the sum of the log-probabilities of the new tokens">
                (sum {fixed2(s.score * Math.max(1, s.ids.length - ids.length) ** ranPenalty)}, per token {fixed2(s.score * Math.max(1, s.ids.length - ids.length) ** (ranPenalty - 1))})
              </span>{' '}
              <span class="prompt-part">{promptText}</span>
              <span class="new-part">{continuation(s.text, promptText)}</span>
            </li>
          ))}
        </ol>
      )}
    </div>
  );
}
