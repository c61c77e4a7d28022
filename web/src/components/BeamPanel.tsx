// The beam search view: its settings, the tree growing step by step as the server streams beam events (one as each
// step is done), and the finished hypotheses ranked by score.
import { useMemo, useRef, useState } from 'preact/hooks';
import { ApiCallError, generateStream, isAbort } from '../api.ts';
import type { BeamEvent, GenerateRequest, GenerateResponse } from '../api.ts';
import { usePublishExport } from '../export.ts';
import type { GenState } from '../url-state.ts';
import { fixed2, visible } from '../format.ts';
import { BeamTree, buildBeamTree, pathNodes, type TreeNode } from './BeamTree.tsx';
import { continuation } from './Compare.tsx';

/** `maxNewTokens`: the server's limit (the field allows what the API allows; the API's error shows under a field). */
export function BeamPanel({ ids, promptText, disabled, maxNewTokens, gen, onGen }: { ids: number[]; promptText: string; disabled: boolean; maxNewTokens: number; gen: GenState; onGen: (g: Partial<GenState>) => void }) {
  // num_beams and max_new_tokens are the page's (shared with Compare and kept in the address)
  const numBeams = gen.num_beams ?? 3;
  const maxNew = gen.max_new_tokens ?? 6;
  const setNumBeams = (v: number): void => onGen({ num_beams: v });
  const setMaxNew = (v: number): void => onGen({ max_new_tokens: v });
  const [lengthPenalty, setLengthPenalty] = useState(1);
  const [earlyStopping, setEarlyStopping] = useState<'false' | 'true' | 'never'>('false');
  const [events, setEvents] = useState<BeamEvent[]>([]);
  const [ranPenalty, setRanPenalty] = useState(1); // the length penalty of the run the tree shows
  const [result, setResult] = useState<GenerateResponse | null>(null);
  /** greedy's path on the same text (num_beams 1, as many new tokens): its tokens and their log-probabilities */
  const [greedy, setGreedy] = useState<GreedyPath | null>(null);
  const [error, setError] = useState<{ message: string; param: string | null } | null>(null);
  const [running, setRunning] = useState(false);
  const abort = useRef<AbortController | null>(null);
  const [request, setRequest] = useState<GenerateRequest | null>(null);
  // the export: the request, every streamed beam event and the final answer, as the API sent them
  const exported = useMemo(() => (result ? { request, events, response: result, greedy } : null), [result, greedy]);
  usePublishExport('beam', exported);

  async function run(): Promise<void> {
    abort.current?.abort();
    const ctrl = new AbortController();
    abort.current = ctrl;
    setRunning(true);
    setEvents([]);
    setRanPenalty(lengthPenalty);
    setResult(null);
    setGreedy(null);
    setError(null);
    const got: BeamEvent[] = [];
    const request: GenerateRequest = {
      input_ids: ids,
      num_beams: numBeams,
      num_return_sequences: numBeams,
      max_new_tokens: maxNew,
      length_penalty: lengthPenalty,
      early_stopping: earlyStopping === 'never' ? 'never' : earlyStopping === 'true',
    };
    setRequest(request);
    try {
      const res = await generateStream(
        request,
        {
          beam: (e) => {
            got.push(e);
            setEvents([...got]);
          },
        },
        ctrl.signal,
      );
      setResult(res);
      // greedy's path for the overlay: the same text and length with one beam (the server's greedy search)
      const path: GreedyPath = { ids: [], tokens: [], logprobs: [] };
      await generateStream({ input_ids: ids, max_new_tokens: maxNew }, {
        token: (e) => {
          path.ids.push(e.id);
          path.tokens.push(e.token);
          path.logprobs.push(Math.log(e.raw_prob));
        },
      }, ctrl.signal);
      setGreedy(path);
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
      {events.length > 0 && <BeamTree root={root} greedy={greedy?.ids} />}
      {result && greedy && (
        <p class="greedy-note" id="beam-greedy-note" data-part-step={partStep(greedy, result, ids.length) ?? undefined}>
          <span class="greedy-key" aria-hidden="true" /> {greedyNote(root, greedy, result, ids.length, ranPenalty)}
        </p>
      )}
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

export interface GreedyPath {
  ids: number[];
  tokens: string[];
  /** the log of each chosen token's raw probability */
  logprobs: number[];
}

/** The 1-based step at which beam search's best hypothesis leaves greedy's path, or null when it never does. */
export function partStep(greedy: GreedyPath, result: GenerateResponse, promptLength: number): number | null {
  const best = result.sequences[0]!.ids.slice(promptLength);
  const n = Math.min(best.length, greedy.ids.length);
  for (let i = 0; i < n; i++) if (best[i] !== greedy.ids[i]) return i + 1;
  return best.length === greedy.ids.length ? null : n + 1;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/**
 * Where and why beam search leaves greedy's path, in joint log-probabilities: greedy takes the most likely token at
 * each step; beam search keeps a locally less likely one because the whole continuation through it scores better.
 */
export function greedyNote(root: TreeNode, greedy: GreedyPath, result: GenerateResponse, promptLength: number, lengthPenalty: number): string {
  const best = result.sequences[0]!;
  const bestNew = best.ids.slice(promptLength);
  const n = Math.max(1, bestNew.length);
  const beamSum = best.score * n ** lengthPenalty; // HF's score is sum ÷ length^length_penalty
  const greedySum = sum(greedy.logprobs);
  const k = partStep(greedy, result, promptLength);
  const totals =
    `Over the whole text greedy's path has sum ${fixed2(greedySum)} (${greedy.ids.length} tokens, ${fixed2(greedySum / Math.max(1, greedy.ids.length))} per token); ` +
    `beam's chosen path ${fixed2(beamSum)} (${bestNew.length} tokens, ${fixed2(beamSum / n)} per token), ` +
    (beamSum >= greedySum ? `better by ${fixed2(beamSum - greedySum)}.` : `worse by ${fixed2(greedySum - beamSum)} (beam search ranks by sum ÷ length^${lengthPenalty}).`);
  if (k === null) return `Beam search's best hypothesis is greedy's path: the two never part. ${totals}`;
  const i = k - 1;
  const onTree = pathNodes(root, greedy.ids).length;
  const beamNode = pathNodes(root, bestNew)[i];
  const g = greedy.tokens[i];
  const gRun = sum(greedy.logprobs.slice(0, k));
  const why =
    g === undefined
      ? `greedy had stopped; beam search goes on.`
      : `greedy takes ${JSON.stringify(visible(g))} (log-probability ${fixed2(greedy.logprobs[i]!)}, running sum ${fixed2(gRun)})` +
        (beamNode && beamNode.score !== null
          ? `; beam search keeps ${JSON.stringify(visible(beamNode.label))} (running sum ${fixed2(beamNode.score)}), locally worse by ${fixed2(gRun - beamNode.score)}, because the continuation through it scores better.`
          : '; beam search keeps another token, because the continuation through it scores better.');
  const drawn = onTree < greedy.ids.length ? ` Greedy's path is drawn (thick orange) for its first ${onTree} tokens; after that its tokens were never among the candidates the beams kept.` : ` Greedy's path is drawn thick and orange.`;
  return `Beam search leaves greedy's path at step ${k}: ${why} ${totals}${drawn}`;
}
