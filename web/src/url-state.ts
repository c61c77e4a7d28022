// The page's state in its address (query parameters), so that copying the URL shares what is on screen. Names are
// HF's generation options and the static-site issue's: model, prompt, view, temperature, top_k, top_p,
// repetition_penalty, and the generation settings of Beam search and Compare (num_beams, max_new_tokens, seed) and of
// Step (do_sample: Step samples instead of taking the top row), and step mode's "What if" branches (branches).
import { DEFAULT_KNOBS, type KnobState } from './components/Knobs.tsx';

export const VIEWS = ['next', 'beam', 'attention', 'lens', 'compare', 'walk', 'interventions'] as const;
export type ViewName = (typeof VIEWS)[number];

/** Generation settings shared by Beam search and Compare (null: the view's own default). */
export interface GenState {
  num_beams: number | null;
  max_new_tokens: number | null;
  seed: number | null;
  /** Step samples with the knobs (true) or takes the top row (false) */
  do_sample: boolean | null;
}

export const NO_GEN: GenState = { num_beams: null, max_new_tokens: null, seed: null, do_sample: null };

export interface UrlState {
  prompt: string | null;
  view: ViewName | null;
  knobs: KnobState;
  gen: GenState;
  /** the "What if" branches of step mode: their forced token ids (`branches=1234,567`) */
  branches: number[];
}

const GEN_NUMBERS = ['num_beams', 'max_new_tokens', 'seed'] as const;

/** Reads the state from a query string; unknown views and unparsable numbers are ignored (the defaults stay). */
export function readUrlState(search: string): UrlState {
  const q = new URLSearchParams(search);
  const knobs: KnobState = { ...DEFAULT_KNOBS };
  for (const k of Object.keys(DEFAULT_KNOBS) as (keyof KnobState)[]) {
    const v = q.get(k);
    if (v !== null && v.trim() !== '' && Number.isFinite(Number(v))) knobs[k] = Number(v);
  }
  const gen: GenState = { ...NO_GEN };
  for (const k of GEN_NUMBERS) {
    const v = q.get(k);
    if (v !== null && /^-?\d+$/.test(v.trim())) gen[k] = Number(v);
  }
  const sample = q.get('do_sample');
  if (sample === 'true' || sample === 'false') gen.do_sample = sample === 'true';
  const view = q.get('view');
  const branches = (q.get('branches') ?? '').split(',').filter((x) => /^\d+$/.test(x)).map(Number).slice(0, 16);
  return { prompt: q.get('prompt'), view: (VIEWS as readonly string[]).includes(view ?? '') ? (view as ViewName) : null, knobs, gen, branches };
}

/** The query string for `state`, keeping parameters the page does not own (model, ...). Neutral knobs and unset settings are left out. */
export function writeUrlState(search: string, state: { prompt: string; view: ViewName; knobs: KnobState; gen: GenState; branches?: number[] }): string {
  const q = new URLSearchParams(search);
  q.set('prompt', state.prompt);
  q.set('view', state.view);
  if (state.branches?.length) q.set('branches', state.branches.join(','));
  else q.delete('branches');
  for (const k of Object.keys(DEFAULT_KNOBS) as (keyof KnobState)[]) {
    if (state.knobs[k] === DEFAULT_KNOBS[k] || !Number.isFinite(state.knobs[k])) q.delete(k);
    else q.set(k, String(state.knobs[k]));
  }
  for (const k of GEN_NUMBERS) {
    const v = state.gen[k];
    if (v === null || !Number.isFinite(v)) q.delete(k);
    else q.set(k, String(v));
  }
  if (state.gen.do_sample === null) q.delete('do_sample');
  else q.set('do_sample', String(state.gen.do_sample));
  return `?${q.toString()}`;
}
