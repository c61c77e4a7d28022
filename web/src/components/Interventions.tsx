// The Interventions view: change what GPT-2 computes and see what the prediction did because of it
// (docs/interventions.md). Three experiments, each one API call:
//   ablation     click heads in a layer × head grid; /api/next with `ablate` redraws the next-token bars, each with
//                its change from the unablated run
//   attribution  /api/attribute: how much each component writes into one token's logit (the bars sum to it)
//   patching     /api/patch: a clean/corrupted pair; which layer and position (or head) brings the answer back
// Everything is a click or a field (no hover needed), and every element has a data-* hook for tests.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { interpolateRgbBasis } from 'd3';
import { api, ApiCallError, isAbort } from '../api.ts';
import type { AblationKind, Attribution, ModelInfo, NextResponse, PatchHook, PatchResult } from '../api.ts';
import { fixed2, fixed3, percent, visible } from '../format.ts';
import './Interventions.css';

const IOI = {
  clean: 'When Mary and John went to the store, John gave a drink to',
  corrupted: 'When John and Mary went to the store, Mary gave a drink to',
  answer: ' Mary',
  wrong: ' John',
};
const HOOKS: { id: PatchHook; label: string }[] = [
  { id: 'resid_pre', label: 'residual stream (resid_pre): layer × position' },
  { id: 'attn_out', label: 'attention output (attn_out): layer × position' },
  { id: 'mlp_out', label: 'MLP output (mlp_out): layer × position' },
  { id: 'z', label: 'each head (z, every position): layer × head' },
];
/** attribution bars shown one by one; the rest are summed into one bar */
const SHOWN_COMPONENTS = 16;

function message(err: unknown): string {
  return err instanceof ApiCallError || err instanceof Error ? err.message : String(err);
}

/** recovered → colour: red (−1, the patch makes it worse) · white (0, nothing) · blue (1, all of the clean behaviour) */
const recoveredColor = interpolateRgbBasis(['#b2182b', '#f7f7f7', '#2166ac']);
const cellColor = (v: number): string => recoveredColor((Math.max(-1, Math.min(1, v)) + 1) / 2);

/** A signed change in probability, in percentage points. */
function delta(d: number): string {
  const pts = d * 100;
  if (Math.abs(pts) < 0.005) return '±0';
  return `${pts > 0 ? '+' : '−'}${Math.abs(pts) < 0.1 ? Math.abs(pts).toFixed(2) : Math.abs(pts).toFixed(1)} pts`;
}

export function Interventions({ ids, info, stale, active }: { ids: number[]; info: ModelInfo; stale: boolean; active: boolean }) {
  const { n_layer, n_head } = info.config;
  const key = ids.join(',');
  const [heads, setHeads] = useState<string[]>([]);
  const [kind, setKind] = useState<AblationKind>('zero');
  const [next, setNext] = useState<{ key: string; res: NextResponse; ms: number } | null>(null);
  const [plain, setPlain] = useState<{ key: string; res: NextResponse } | null>(null);
  const [target, setTarget] = useState<number | null>(null);
  const [attr, setAttr] = useState<{ key: string; res: Attribution } | null>(null);
  const [error, setError] = useState<string | null>(null);

  const headsKey = `${key}|${kind}|${heads.join(',')}`;
  // the ablated table (with `ablate`, the answer carries the unablated numbers too): live, as heads are clicked
  useEffect(() => {
    if (!active || !ids.length || next?.key === headsKey) return;
    const ctrl = new AbortController();
    const started = performance.now();
    const timer = setTimeout(() => {
      api.next({ input_ids: ids, top: 10, ablate: heads, ...(heads.length ? { ablation: kind } : {}) }, ctrl.signal).then(
        (res) => {
          setNext({ key: headsKey, res, ms: Math.round(performance.now() - started) });
          setError(null);
        },
        (err) => !isAbort(err) && setError(message(err)),
      );
    }, 30);
    return () => {
      clearTimeout(timer);
      ctrl.abort();
    };
  }, [headsKey, active]);

  // the plain table of this prompt: the tokens attribution can split (default: the top one)
  useEffect(() => {
    if (!active || !ids.length || plain?.key === key) return;
    const ctrl = new AbortController();
    api.next({ input_ids: ids, top: 10 }, ctrl.signal).then(
      (res) => {
        setPlain({ key, res });
        setTarget(null);
      },
      (err) => !isAbort(err) && setError(message(err)),
    );
    return () => ctrl.abort();
  }, [key, active]);
  const targetId = plain?.key === key ? (target ?? plain.res.top[0]?.id ?? null) : null;
  const attrKey = `${key}|${targetId}`;
  useEffect(() => {
    if (!active || targetId === null || attr?.key === attrKey) return;
    const ctrl = new AbortController();
    api.attribute({ input_ids: ids, target: targetId }, ctrl.signal).then(
      (res) => setAttr({ key: attrKey, res }),
      (err) => !isAbort(err) && setError(message(err)),
    );
    return () => ctrl.abort();
  }, [attrKey, active]);

  const toggle = (h: string): void => setHeads((hs) => (hs.includes(h) ? hs.filter((x) => x !== h) : [...hs, h].sort(byHead)));
  const fresh = next?.key === headsKey;

  return (
    <div class="interventions" data-interventions>
      {error && (
        <p class="error" role="alert" data-iv-error>
          {error}
        </p>
      )}
      <section class="iv-section" aria-labelledby="iv-ablate-title" data-iv="ablation">
        <h2 id="iv-ablate-title">Ablate attention heads</h2>
        <p class="hint">
          Click heads to switch them off: their output (<code>hook_z</code>, before <code>c_proj</code>) is replaced by {kind === 'zero' ? 'zero' : "its mean over the prompt's positions"} at every position. The bars show what GPT-2 predicts then; the thin mark and the
          change say what it predicted with every head on.
        </p>
        <div class="iv-controls" role="group" aria-label="Ablation">
          <label>
            <input type="radio" name="iv-kind" id="ablation-zero" data-ablation-kind="zero" checked={kind === 'zero'} onChange={() => setKind('zero')} /> zero
          </label>
          <label>
            <input type="radio" name="iv-kind" id="ablation-mean" data-ablation-kind="mean" checked={kind === 'mean'} onChange={() => setKind('mean')} /> mean
          </label>
          <button type="button" id="ablation-clear" onClick={() => setHeads([])} disabled={heads.length === 0}>
            Restore all heads
          </button>
          <span class="iv-count" data-ablated-count={heads.length}>
            {heads.length ? `${heads.length} ablated: ${heads.join(', ')}` : 'no head ablated'}
          </span>
        </div>
        <div class="head-grid-scroll">
          <table class="head-grid" data-head-grid>
            <thead>
              <tr>
                <th scope="col">layer</th>
                {Array.from({ length: n_head }, (_, h) => (
                  <th scope="col" key={h}>
                    H{h}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {Array.from({ length: n_layer }, (_, l) => (
                <tr key={l}>
                  <th scope="row">L{l}</th>
                  {Array.from({ length: n_head }, (_, h) => {
                    const name = `${l}.${h}`;
                    const on = heads.includes(name);
                    return (
                      <td key={h}>
                        <button type="button" class={`head${on ? ' off' : ''}`} data-head={name} aria-pressed={on} aria-label={`head ${name}${on ? ' (ablated)' : ''}`} onClick={() => toggle(name)} disabled={stale}>
                          {on ? '×' : ''}
                        </button>
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {next ? <AblatedTable next={next.res} busy={!fresh} ms={next.ms} /> : <p class="hint">{ids.length ? 'Computing…' : 'Type a prompt first.'}</p>}
      </section>

      <section class="iv-section" aria-labelledby="iv-attr-title" data-iv="attribution">
        <h2 id="iv-attr-title">Direct logit attribution</h2>
        <p class="hint">
          The last position's residual stream is a sum of what each component wrote into it. Through <code>ln_f</code> (its scale frozen) and the token's unembedding row, each part becomes a share of the token's logit: the bars
          below add up to it. Every head is on here.
        </p>
        {plain?.key === key && (
          <label class="iv-target">
            token{' '}
            <select id="attr-target" value={targetId ?? ''} onChange={(e) => setTarget(Number((e.target as HTMLSelectElement).value))}>
              {plain.res.top.map((c) => (
                <option value={c.id} key={c.id}>
                  {visible(c.token)} ({percent(c.prob)})
                </option>
              ))}
            </select>
          </label>
        )}
        {attr && attr.key === attrKey ? <AttributionBars attr={attr.res} /> : <p class="hint">Computing…</p>}
      </section>

      <Patching info={info} />
    </div>
  );
}

function byHead(a: string, b: string): number {
  const [la, ha] = a.split('.').map(Number) as [number, number];
  const [lb, hb] = b.split('.').map(Number) as [number, number];
  return la - lb || ha - hb;
}

function AblatedTable({ next, busy, ms }: { next: NextResponse; busy: boolean; ms: number }) {
  const reported = new Map(next.reported.map((r) => [r.id, r]));
  const base = new Map((next.ablation?.unablated ?? []).map((u) => [u.id, u]));
  return (
    <div class={`iv-next${busy ? ' busy' : ''}`} aria-busy={busy} data-iv-next data-heads={next.ablation?.heads.join(',') ?? ''} data-kind={next.ablation?.kind ?? ''} data-update-ms={ms}>
      <p class="iv-legend" aria-hidden="true">
        <span class="swatch after" /> with the ablation <span class="mark-swatch" /> with every head · change in percentage points · updated in {ms} ms
      </p>
      <ol class="iv-rows" aria-label="Next-token candidates with the ablation">
        {next.top.map((c) => {
          const r = reported.get(c.id)!;
          const u = base.get(c.id);
          const d = u ? r.raw_prob - u.raw_prob : 0;
          return (
            <li key={c.id} class="iv-row" data-id={c.id} data-prob={r.raw_prob} data-unablated-prob={u?.raw_prob} data-delta={d} data-logit={r.logit}>
              <span class="row-token">{visible(c.token)}</span>
              <span class="bars">
                <span class="bar after" style={{ width: `${Math.min(100, r.raw_prob * 100)}%` }} />
                {u && <span class="unablated-mark" style={{ left: `${Math.min(100, u.raw_prob * 100)}%` }} />}
              </span>
              <span class="num">{percent(r.raw_prob)}</span>
              <span class={`num iv-delta${d > 0 ? ' up' : d < 0 ? ' down' : ''}`}>{delta(d)}</span>
            </li>
          );
        })}
      </ol>
    </div>
  );
}

function AttributionBars({ attr }: { attr: Attribution }) {
  const sorted = useMemo(() => [...attr.components].sort((a, b) => Math.abs(b.value) - Math.abs(a.value)), [attr]);
  const shown = sorted.slice(0, SHOWN_COMPONENTS);
  const rest = sorted.slice(SHOWN_COMPONENTS);
  const restSum = rest.reduce((a, c) => a + c.value, 0);
  const bars = rest.length ? [...shown, { name: `${rest.length} others`, value: restSum }] : shown;
  const scale = Math.max(1e-9, ...bars.map((b) => Math.abs(b.value))); // at most SHOWN_COMPONENTS + 1 values
  const sum = attr.components.reduce((a, c) => a + c.value, 0);
  return (
    <div class="attr" data-attribution data-target={attr.target} data-logit={attr.logit} data-count={attr.components.length}>
      <ol class="attr-rows" aria-label="Components, largest first">
        {bars.map((b, i) => {
          const w = `${(Math.abs(b.value) / scale) * 50}%`;
          return (
            <li key={b.name} class={`attr-row${i >= shown.length ? ' rest' : ''}`} data-name={b.name} data-value={b.value}>
              <span class="attr-name">{b.name}</span>
              <span class="attr-track">
                <span class={`attr-bar ${b.value >= 0 ? 'pos' : 'neg'}`} style={b.value >= 0 ? { left: '50%', width: w } : { right: '50%', width: w }} />
              </span>
              <span class="num">{fixed3(b.value)}</span>
            </li>
          );
        })}
      </ol>
      <p class="attr-sum" data-sum={sum}>
        Σ of all {attr.components.length} components = <strong>{fixed3(sum)}</strong> = the logit <strong>{fixed3(attr.logit)}</strong>
        {Math.abs(sum - attr.logit) >= 0.0005 ? ` (float rounding: ${(sum - attr.logit).toExponential(1)})` : ''}
      </p>
    </div>
  );
}

function Patching({ info }: { info: ModelInfo }) {
  const [form, setForm] = useState({ ...IOI, hook: 'resid_pre' as PatchHook });
  const [result, setResult] = useState<{ res: PatchResult; clean: string[]; corrupted: string[] } | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ param: string | null; message: string } | null>(null);
  const field = (k: 'clean' | 'corrupted' | 'answer' | 'wrong') => ({
    value: form[k],
    id: `patch-${k}`,
    spellcheck: false,
    'aria-invalid': error?.param === k,
    onInput: (e: Event) => setForm((f) => ({ ...f, [k]: (e.target as HTMLInputElement).value })),
  });
  async function run(): Promise<void> {
    setBusy(true);
    setError(null);
    try {
      const res = await api.patch(form);
      const [c, k] = await Promise.all([api.tokenize({ text: form.clean }), api.tokenize({ text: form.corrupted })]);
      setResult({ res, clean: c.tokens.map((t) => t.text), corrupted: k.tokens.map((t) => t.text) });
    } catch (err) {
      setError({ param: err instanceof ApiCallError ? err.param : null, message: message(err) });
    } finally {
      setBusy(false);
    }
  }
  const res = result?.res;
  return (
    <section class="iv-section" aria-labelledby="iv-patch-title" data-iv="patching">
      <h2 id="iv-patch-title">Activation patching</h2>
      <p class="hint">
        Run the corrupted prompt, but take one activation from the clean run, and see how much of the clean answer comes back: the score is the logit difference answer − wrong at the last position, as (patched − corrupted) ÷
        (clean − corrupted). Both prompts need the same number of tokens (at most {info.limits.max_patch_tokens} here).
      </p>
      <div class="patch-form">
        <label>
          clean <input type="text" {...field('clean')} />
        </label>
        <label>
          corrupted <input type="text" {...field('corrupted')} />
        </label>
        <label>
          answer <input type="text" class="short" {...field('answer')} />
        </label>
        <label>
          wrong <input type="text" class="short" {...field('wrong')} />
        </label>
        <label>
          patch{' '}
          <select id="patch-hook" value={form.hook} onChange={(e) => setForm((f) => ({ ...f, hook: (e.target as HTMLSelectElement).value as PatchHook }))}>
            {HOOKS.map((h) => (
              <option value={h.id} key={h.id}>
                {h.label}
              </option>
            ))}
          </select>
        </label>
        <div class="iv-controls">
          <button type="button" id="patch-preset" onClick={() => {
              setForm((f) => ({ ...f, ...IOI }));
              setError(null);
            }}>
            Example: indirect object (Mary / John)
          </button>
          <button type="button" id="patch-run" onClick={() => void run()} disabled={busy}>
            {busy ? 'Patching…' : 'Run patching'}
          </button>
        </div>
      </div>
      {error && (
        <p class="error" role="alert" data-patch-error data-param={error.param ?? ''}>
          {error.message}
        </p>
      )}
      {res && result && (
        <div class="patch-result" data-patch-result data-hook={res.hook}>
          <p class="patch-diffs">
            logit difference: clean <strong data-clean-diff={res.clean_logit_diff}>{fixed2(res.clean_logit_diff)}</strong>, corrupted <strong data-corrupted-diff={res.corrupted_logit_diff}>{fixed2(res.corrupted_logit_diff)}</strong>
          </p>
          <div class="patch-scroll">
            <table class="patch-grid" data-patch-grid>
              <thead>
                <tr>
                  <th scope="col">{res.hook === 'z' ? 'layer \\ head' : 'layer \\ position'}</th>
                  {res.cols.map((c, j) => {
                    const a = result.clean[j];
                    const b = result.corrupted[j];
                    return (
                      <th scope="col" key={c} data-col={c} class={res.hook !== 'z' && a !== b ? 'differs' : undefined}>
                        {res.hook === 'z' || a === undefined ? c : a === b ? visible(a) : `${visible(a)} / ${visible(b ?? '')}`}
                      </th>
                    );
                  })}
                </tr>
              </thead>
              <tbody>
                {res.recovered.map((row, l) => (
                  <tr key={l}>
                    <th scope="row">{res.rows[l]}</th>
                    {row.map((v, j) => (
                      <td key={j} class="patch-cell" data-layer={l} data-col={res.cols[j]} data-recovered={v} style={{ background: cellColor(v), color: Math.abs(v) > 0.6 ? '#fff' : '#222' }}>
                        {fixed2(v)}
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          <p class="legend" data-patch-legend>
            recovered: −1 <span class="legend-bar" style={{ background: `linear-gradient(to right, ${[-1, -0.5, 0, 0.5, 1].map(cellColor).join(', ')})` }} /> 1 · <strong>blue</strong>: patching this one activation brings the clean answer back (1 = all
            of it) · <strong>white</strong>: it changes nothing · <strong>red</strong>: it pushes further towards the wrong token. Columns where the prompts differ are marked.
          </p>
        </div>
      )}
    </section>
  );
}
