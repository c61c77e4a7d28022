// The explorer: a prompt, its tokens, and five ways to look at what GPT-2 does with them.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { api, ApiCallError, generateStream, isAbort } from './api.ts';
import type { ForwardResponse, ModelInfo, NextResponse, TokenizeResponse } from './api.ts';
import { thousands } from './format.ts';
import { Attention } from './components/Attention.tsx';
import { BeamPanel } from './components/BeamPanel.tsx';
import { Chips, type Chip } from './components/Chips.tsx';
import { Compare } from './components/Compare.tsx';
import { Interventions } from './components/Interventions.tsx';
import { DEFAULT_KNOBS, Knobs, knobFields, type KnobState } from './components/Knobs.tsx';
import { LogitLens } from './components/LogitLens.tsx';
import { Walk } from './components/Walk.tsx';
import { WhatIf } from './components/WhatIf.tsx';
import { downloadJson, downloadPng, downloadSvg, onPublish, publishedExport } from './export.ts';
import { readUrlState, writeUrlState, type GenState } from './url-state.ts';
import { alternativesOf, NextTable, Summary, type Row } from './components/NextTable.tsx';
import { IS_SITE } from './site/flags.ts';

type Tab = 'next' | 'beam' | 'attention' | 'lens' | 'compare' | 'walk' | 'interventions';
const TABS: { id: Tab; label: string }[] = [
  { id: 'next', label: 'Next token' },
  { id: 'beam', label: 'Beam search' },
  { id: 'attention', label: 'Attention' },
  { id: 'lens', label: 'Logit lens' },
  { id: 'compare', label: 'Compare' },
  { id: 'walk', label: 'How GPT-2 computed this' },
  { id: 'interventions', label: 'Interventions' },
];

const INITIAL_PROMPT = 'The theory of relativity is';
const FROM_URL = readUrlState(location.search);

/** The model as the header names it: a folder's last part, never an absolute path of the server's machine. */
export function modelLabel(model: string): string {
  if (/^(\/|[A-Za-z]:[\\/]|\.{0,2}[\\/])/.test(model)) return model.split(/[\\/]/).filter(Boolean).at(-1) ?? model;
  return model;
}

function message(err: unknown): string {
  return err instanceof ApiCallError || err instanceof Error ? err.message : String(err);
}

/** Runs `effect` after `ms` without a change of `deps`, with an AbortSignal that fires when they change again. */
function useDebouncedRequest(effect: (signal: AbortSignal) => void, deps: unknown[], ms: number): void {
  useEffect(() => {
    const ctrl = new AbortController();
    const timer = setTimeout(() => effect(ctrl.signal), ms);
    return () => {
      clearTimeout(timer);
      ctrl.abort(); // the server drops (or stops) the superseded request
    };
  }, deps);
}

function formatParams(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)}B`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)}M`;
  return `${(n / 1e3).toFixed(1)}K`;
}

export function App() {
  const [info, setInfo] = useState<ModelInfo | null>(null);
  const [fatal, setFatal] = useState<string | null>(null);
  const [prompt, setPrompt] = useState(FROM_URL.prompt ?? INITIAL_PROMPT);
  const [tokens, setTokens] = useState<TokenizeResponse | null>(null);
  const [steps, setSteps] = useState<Chip[]>([]);
  const [knobs, setKnobs] = useState<KnobState>(FROM_URL.knobs);
  const [next, setNext] = useState<NextResponse | null>(null);
  /** the request `next` answers (ids and knobs), to tell a fresh table from a stale one */
  const [nextFor, setNextFor] = useState('');
  const [nextBusy, setNextBusy] = useState(false);
  // one forward pass per view and prompt: attention and the lens are asked for separately (the lens is the costly one)
  const [forward, setForward] = useState<{ attention: ForwardResponse | null; lens: ForwardResponse | null }>({ attention: null, lens: null });
  const [error, setError] = useState<string | null>(null);
  /** the API's error for the knobs (shown under the field it names) */
  const [knobError, setKnobError] = useState<{ param: string | null; message: string } | null>(null);
  /** the prompt the server rejected: every result is then stale (greyed, no Step), and this stays on every tab */
  const [promptError, setPromptError] = useState<string | null>(null);
  /** why a view's forward pass cannot be shown (over the forward limit, or the server's error), by view */
  const [viewError, setViewError] = useState<{ key: string; message: string } | null>(null);
  const [tab, setTab] = useState<Tab>(FROM_URL.view ?? 'next');
  const [branches, setBranches] = useState<number[]>(FROM_URL.branches);
  const [copied, setCopied] = useState(false);
  // views that make their own requests (beam search, Compare, the walk) publish their data for Export
  const [, setPublished] = useState(0);
  useEffect(() => onPublish(() => setPublished((n) => n + 1)), []);
  // the address follows the page: copying it shares the prompt, the view and the knobs
  /** the generation settings of Beam search and Compare (one value each, shared), and Step's do_sample */
  const [gen, setGen] = useState<GenState>(FROM_URL.gen);
  const changeGen = (part: Partial<GenState>): void => setGen((g) => ({ ...g, ...part }));
  useEffect(() => {
    const search = writeUrlState(location.search, { prompt, view: tab, knobs, gen, branches });
    if (search !== location.search) history.replaceState(null, '', search);
  }, [prompt, tab, knobs, gen, branches]);
  const [auto, setAuto] = useState(false);
  const pickMode: 'greedy' | 'sample' = gen.do_sample ? 'sample' : 'greedy';
  const setPickMode = (m: 'greedy' | 'sample'): void => changeGen({ do_sample: m === 'sample' });
  const stepping = useRef(false);
  /** the walk, once opened, stays mounted (its request is made only while it is open) */
  const walkSeen = useRef(false);
  if (tab === 'walk') walkSeen.current = true;

  useEffect(() => {
    api.model().then(setInfo, (err) => setFatal(IS_SITE ? `The model did not answer: ${message(err)}` : `Cannot reach the gpt2-lens server: ${message(err)}`));
  }, []);

  // A stable hook for tests and automation: the model is loaded and the first table is drawn.
  useEffect(() => {
    if (info && next) document.body.dataset.ready = 'true';
  }, [info, next]);

  // The prompt's tokens, as the person types. A new prompt starts step mode afresh.
  useDebouncedRequest(
    (signal) => {
      api.tokenize({ text: prompt }, signal).then(
        (t) => {
          setTokens(t);
          setSteps([]);
          setError(null);
          setPromptError(null);
        },
        (err) => {
          if (isAbort(err)) return;
          setAuto(false);
          // say GPT-2's own limit next to a lower limit of this server
          const n = info?.config.n_positions;
          setPromptError(`${message(err)}${n && /limit/.test(message(err)) ? ` (GPT-2 itself reads at most ${n} tokens)` : ''}. The results below are for the previous prompt.`);
        },
      );
    },
    [prompt],
    120,
  );

  const ids = useMemo(() => [...(tokens?.ids ?? []), ...steps.map((s) => s.id)], [tokens, steps]);
  const text = useMemo(() => (tokens ? prompt : '') + steps.map((s) => s.text).join(''), [tokens, prompt, steps]);

  // The next-token table for the current ids and knobs.
  const nextKey = JSON.stringify([ids, knobs]);
  useDebouncedRequest(
    (signal) => {
      if (!ids.length) {
        setNext(null);
        return;
      }
      setNextBusy(true);
      const key = nextKey;
      api.next({ input_ids: ids, top: 10, ...knobFields(knobs) }, signal).then(
        (n) => {
          setNext(n);
          setNextFor(key);
          setNextBusy(false);
          setError(null);
          setKnobError(null);
        },
        (err) => {
          if (isAbort(err)) return;
          setNextBusy(false);
          const param = err instanceof ApiCallError ? err.param : null;
          if (param && param in DEFAULT_KNOBS) setKnobError({ param, message: message(err) });
          else setError(message(err));
        },
      );
    },
    [ids, knobs],
    60,
  );

  // Attention and the logit lens: a forward pass asked for only while its view is open, once per prompt.
  const view = tab === 'attention' || tab === 'lens' ? tab : null;
  const key = ids.join(',');
  useDebouncedRequest(
    (signal) => {
      if (!view || !ids.length || forward[view]?.input_ids.join(',') === key) return;
      if (info && ids.length > info.limits.max_forward_tokens) {
        setViewError({ key, message: `Attention and the logit lens are limited to ${info.limits.max_forward_tokens} tokens on this server (GPT-2 itself reads ${info.config.n_positions}); this text has ${ids.length}.` });
        return;
      }
      const req = view === 'attention' ? { attentions: true, lens: false } : { attentions: false, lens: true, lens_top: 3 };
      api.forward({ input_ids: ids, ...req }, signal).then(
        (f) => setForward((old) => ({ ...old, [view]: f })),
        (err) => !isAbort(err) && setViewError({ key, message: message(err) }),
      );
    },
    [key, view],
    100,
  );
  const current = (v: 'attention' | 'lens'): ForwardResponse | null => (forward[v]?.input_ids.join(',') === key ? forward[v] : null);

  // The table answers for the ids and knobs it was asked about; until the answer for the current ones arrives, it is stale:
  // shown dimmed, and nothing can be picked from it (a pick would follow a context that is no longer the text's).
  const fresh = next !== null && nextFor === nextKey && promptError === null;
  const stale = promptError !== null;
  /** what a view shows instead of "Computing…" when it cannot compute */
  const blocked = viewError?.key === key ? viewError.message : null;

  function append(row: Row): void {
    if (!next || !fresh) return;
    setSteps((s) => [...s, { id: row.id, text: row.token, prob: row.after, alternatives: alternativesOf(next) }]);
  }

  /** One step: greedy takes the top of the table; sampling asks the server to draw one token with the knobs. */
  async function step(): Promise<void> {
    if (!next || !fresh || stepping.current) return;
    stepping.current = true;
    try {
      if (pickMode === 'greedy') {
        const best = next.processed[0]!;
        setSteps((s) => [...s, { id: best.id, text: best.token, prob: best.prob, alternatives: alternativesOf(next) }]);
      } else {
        let chip: Chip | null = null;
        await generateStream(
          { input_ids: ids, max_new_tokens: 1, do_sample: true, top_k: 0, ...knobFields(knobs), seed: Math.floor(Math.random() * 2 ** 31), top: 5 },
          { token: (e) => (chip = { id: e.id, text: e.token, prob: e.prob, alternatives: e.top }) },
        );
        if (chip) setSteps((s) => [...s, chip!]);
      }
    } catch (err) {
      setError(message(err));
      setAuto(false);
    } finally {
      stepping.current = false;
    }
  }

  // Auto-step: one token every 400 ms once the table for the last one has arrived.
  useEffect(() => {
    if (!auto || !next || !fresh || nextBusy || stale) return;
    if (steps.length >= 64) {
      setAuto(false);
      return;
    }
    const timer = setTimeout(() => void step(), 400);
    return () => clearTimeout(timer);
  }, [auto, next, nextBusy, fresh]);

  const chips: Chip[] = [...(tokens?.tokens.map((t) => ({ id: t.id, text: t.text, bytes: t.bytes, start: t.start, end: t.end })) ?? []), ...steps];

  /** Clicking a prompt chip selects the text it covers in the prompt box (the tokenizer's offsets). */
  function selectSpan(i: number): void {
    const c = chips[i];
    const box = document.getElementById('prompt') as HTMLTextAreaElement | null;
    if (!c || c.start === undefined || c.end === undefined || !box) return;
    box.focus();
    box.setSelectionRange(c.start, c.end);
  }

  /** The view's data as the API answered it (next-token table, attention or lens forward pass; the others publish theirs). */
  function exportData(): unknown {
    if (tab === 'next') return fresh ? next : null;
    if (tab === 'attention' || tab === 'lens') return current(tab);
    return publishedExport(tab);
  }
  /** the view's drawing, for SVG and PNG export (the attention heatmap, the beam tree) */
  const drawing = (): SVGSVGElement | null => (exportData() ? document.querySelector<SVGSVGElement>(`#panel-${tab} svg[data-export]`) : null);
  const drawn = (tab === 'attention' || tab === 'beam') && exportData() !== null;

  function panel(id: Tab) {
    switch (id) {
      case 'next':
        return (
          <div class="next-view">
            <Knobs value={knobs} onChange={setKnobs} error={knobError} />
            <div class="next-main">
              <div class="step-controls" role="toolbar" aria-label="Step mode">
                <button type="button" id="step" onClick={() => void step()} disabled={!fresh}>
                  Step
                </button>
                <select aria-label="How Step picks a token" value={pickMode} onChange={(e) => setPickMode((e.target as HTMLSelectElement).value as 'greedy' | 'sample')}>
                  <option value="greedy">greedy (the top row)</option>
                  <option value="sample">sample (with the knobs)</option>
                </select>
                <button type="button" id="auto" aria-pressed={auto} onClick={() => setAuto((a) => !a)} disabled={!next || stale}>
                  {auto ? 'Pause' : 'Auto-step'}
                </button>
                <button type="button" id="undo" onClick={() => setSteps((s) => s.slice(0, -1))} disabled={steps.length === 0 || stale}>
                  Undo
                </button>
                <button type="button" onClick={() => setSteps([])} disabled={steps.length === 0 || stale}>
                  Clear
                </button>
              </div>
              {next ? (
                <>
                  <NextTable next={next} onPick={append} busy={nextBusy || !fresh} />
                  <Summary next={next} />
                  {info && <WhatIf ids={ids} top={fresh ? next.top : null} vocab={info.config.vocab_size} branches={branches} onChange={setBranches} disabled={!fresh} />}
                </>
              ) : (
                <p class="hint">{ids.length ? 'Computing…' : 'Type a prompt to see what GPT-2 expects next.'}</p>
              )}
            </div>
          </div>
        );
      case 'beam':
        return <BeamPanel key={key} gen={gen} onGen={changeGen} ids={ids} promptText={text} disabled={!tokens || stale} maxNewTokens={info?.limits.max_new_tokens ?? 256} />;
      case 'attention':
        return current('attention') ? <Attention data={current('attention')!} /> : <p class="hint view-status">{blocked ?? 'Computing…'}</p>;
      case 'lens':
        return current('lens') ? (
          <LogitLens data={current('lens')!} />
        ) : (
          <p class="hint view-status" aria-busy={blocked ? 'false' : 'true'}>
            {blocked ?? "Computing… the lens unembeds the residual stream of every layer at every position (a few seconds for GPT-2's 124M parameters)."}
          </p>
        );
      case 'compare':
        return <Compare key={key} gen={gen} onGen={changeGen} ids={ids} promptText={text} knobs={knobs} disabled={!tokens || stale} maxNewTokens={info?.limits.max_new_tokens ?? 256} />;
      case 'interventions':
        return info ? <Interventions ids={ids} info={info} stale={stale} active={tab === 'interventions'} /> : null;
      case 'walk':
        return info && walkSeen.current ? <Walk ids={ids} bytes={chips.map((c) => c.bytes ?? null)} info={info} knobs={knobs} stale={stale} active={tab === 'walk'} onOpen={(v) => setTab(v)} /> : null;
    }
  }

  if (fatal) return <main class="app"><p class="error" role="alert">{fatal}</p></main>;

  return (
    <main class="app">
      <header class="top">
        <h1>
          gpt2-lens <span class="sub">explorer</span>
        </h1>
        {info && (
          <p class="model" id="model-info">
            <strong title={info.model === modelLabel(info.model) ? undefined : 'a folder on the server'}>{modelLabel(info.model)}</strong> · {formatParams(info.n_params)} parameters · {info.config.n_layer} layers × {info.config.n_head} heads ·{' '}
            {thousands(info.config.vocab_size)} tokens
          </p>
        )}
      </header>
      {info?.random && (
        <div class="banner" role="status" id="random-banner">
          These weights are <strong>random</strong> ({modelLabel(info.model)}): the mechanics are real, but the text means nothing.
          {IS_SITE ? (
            <>Load <code>openai-community/gpt2</code> above for real GPT-2.</>
          ) : (
            <>Start with <code>--model openai-community/gpt2</code> for real GPT-2.</>
          )}
        </div>
      )}

      <section class="prompt" aria-label="Prompt">
        <label for="prompt" class="prompt-label">
          Prompt
        </label>
        <textarea id="prompt" rows={2} value={prompt} spellcheck={false} onInput={(e) => setPrompt((e.target as HTMLTextAreaElement).value)} />
        <div class="tokens-line">
          <span class={`count${stale ? ' stale' : ''}`} id="token-count">
            {tokens ? `${tokens.ids.length} token${tokens.ids.length === 1 ? '' : 's'}` : '…'}
            {steps.length > 0 && ` + ${steps.length} generated`}
          </span>
          <div class={stale ? 'stale' : undefined} data-stale={stale ? 'true' : 'false'} id="chips-box">
            <Chips chips={chips} label="Tokens" onPick={selectSpan} />
          </div>
        </div>
        {steps.length > 0 && <p class="legend">Generated tokens are coloured by probability: <span class="legend-scale" /> unlikely → likely. Hover one to see what else the model considered.</p>}
      </section>

      {promptError && (
        <p class="error" role="alert" id="prompt-error">
          {promptError}
        </p>
      )}
      {error && (
        <p class="error" role="alert" id="error">
          {error}
        </p>
      )}

      <div class="share" role="toolbar" aria-label="Share and keep">
        <button
          type="button"
          id="copy-link"
          onClick={() => {
            void navigator.clipboard?.writeText(location.href).then(() => setCopied(true), () => setCopied(false));
          }}
        >
          {copied ? 'Link copied' : 'Copy link'}
        </button>
        <button type="button" id="export-json" disabled={!exportData()} onClick={() => downloadJson(`gpt2-lens-${tab}.json`, exportData())}>
          Export data (JSON)
        </button>
        {drawn && (
          <>
            <button type="button" id="export-svg" onClick={() => { const svg = drawing(); if (svg) downloadSvg(`gpt2-lens-${tab}.svg`, svg); }}>
              Export SVG
            </button>
            <button type="button" id="export-png" onClick={() => { const svg = drawing(); if (svg) void downloadPng(`gpt2-lens-${tab}.png`, svg).catch((err) => setError(message(err))); }}>
              Export PNG
            </button>
          </>
        )}
      </div>
      <nav class="tabs" role="tablist" aria-label="Views">
        {TABS.map((t, i) => (
          <button
            type="button"
            role="tab"
            key={t.id}
            id={`tab-${t.id}`}
            aria-selected={tab === t.id}
            aria-controls={`panel-${t.id}`}
            tabIndex={tab === t.id ? 0 : -1}
            class={tab === t.id ? 'on' : ''}
            onClick={() => setTab(t.id)}
            onKeyDown={(e) => {
              const d = e.key === 'ArrowRight' ? 1 : e.key === 'ArrowLeft' ? -1 : 0;
              if (!d) return;
              const to = TABS[(i + d + TABS.length) % TABS.length]!;
              setTab(to.id);
              document.getElementById(`tab-${to.id}`)?.focus();
            }}
          >
            {t.label}
          </button>
        ))}
      </nav>

      {/* Every view stays mounted (hidden when not shown), so switching tabs keeps its state: the chosen layer and head,
          the beam tree, a running Compare. Beam search and Compare start afresh when the text changes. */}
      <div class={stale ? 'stale' : undefined} data-stale={stale ? 'true' : 'false'} id="results">
        {TABS.map((t) => (
          <section class="panel" role="tabpanel" key={t.id} id={`panel-${t.id}`} aria-labelledby={`tab-${t.id}`} hidden={tab !== t.id} data-view={t.id}>
            {panel(t.id)}
          </section>
        ))}
      </div>
      <footer class="foot">
        {IS_SITE
          ? 'Everything here is computed in this browser; the page talks to no one but the Hub address you chose. '
          : 'Everything here is computed by the gpt2-lens server on this machine; the page loads nothing from elsewhere. '}
        Same semantics as Hugging Face transformers.
      </footer>
    </main>
  );
}
