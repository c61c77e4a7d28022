// The page's state in its address (query parameters), so that copying the URL shares what is on screen. Names are
// HF's generation options and the static-site issue's: model, prompt, view, temperature, top_k, top_p,
// repetition_penalty (num_beams, max_new_tokens, seed and do_sample are kept as given, for the views that use them).
import { DEFAULT_KNOBS, type KnobState } from './components/Knobs.tsx';

export const VIEWS = ['next', 'beam', 'attention', 'lens', 'compare', 'walk', 'interventions'] as const;
export type ViewName = (typeof VIEWS)[number];

export interface UrlState {
  prompt: string | null;
  view: ViewName | null;
  knobs: KnobState;
  /** the "What if" branches of step mode: their forced token ids (`branches=1234,567`) */
  branches: number[];
}

/** Reads the state from a query string; unknown views and unparsable numbers are ignored (the defaults stay). */
export function readUrlState(search: string): UrlState {
  const q = new URLSearchParams(search);
  const knobs: KnobState = { ...DEFAULT_KNOBS };
  for (const k of Object.keys(DEFAULT_KNOBS) as (keyof KnobState)[]) {
    const v = q.get(k);
    if (v !== null && v.trim() !== '' && Number.isFinite(Number(v))) knobs[k] = Number(v);
  }
  const view = q.get('view');
  const branches = (q.get('branches') ?? '').split(',').filter((x) => /^\d+$/.test(x)).map(Number).slice(0, 16);
  return { prompt: q.get('prompt'), view: (VIEWS as readonly string[]).includes(view ?? '') ? (view as ViewName) : null, knobs, branches };
}

/** The query string for `state`, keeping parameters the page does not own (model, num_beams, ...). Neutral knobs are left out. */
export function writeUrlState(search: string, state: { prompt: string; view: ViewName; knobs: KnobState; branches?: number[] }): string {
  const q = new URLSearchParams(search);
  q.set('prompt', state.prompt);
  q.set('view', state.view);
  if (state.branches?.length) q.set('branches', state.branches.join(','));
  else q.delete('branches');
  for (const k of Object.keys(DEFAULT_KNOBS) as (keyof KnobState)[]) {
    if (state.knobs[k] === DEFAULT_KNOBS[k] || !Number.isFinite(state.knobs[k])) q.delete(k);
    else q.set(k, String(state.knobs[k]));
  }
  return `?${q.toString()}`;
}

/** Saves `data` (the API's own JSON) as a file. */
export function downloadJson(name: string, data: unknown): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 1)], { type: 'application/json' }));
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  a.click();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}
