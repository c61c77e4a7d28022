// "How GPT-2 computed this": a guided walk through one forward pass for the current text, at a chosen position,
// block and head. Every number is the server's: one /api/forward request with `capture` (TransformerLens hook names)
// gives the tensors; /api/next gives the logits and, knob by knob in the order the server applies them (HF's), the
// scores after each knob. The page computes nothing of the model; it only reads rows and sums a few for display.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { usePublishExport } from '../export.ts';
import { api, ApiCallError, isAbort } from '../api.ts';
import type { CaptureJson, ForwardResponse, KnobName, ModelInfo, NextResponse } from '../api.ts';
import { fixed2, hexBytes, percent, visible } from '../format.ts';
import { knobFields, type KnobState } from './Knobs.tsx';
import { KNOB_LABEL } from './NextTable.tsx';
import { GeluCurve, ProbRow, row, Vec } from './WalkParts.tsx';

type View = 'attention' | 'lens';

const STEP_TITLES = ['Text → tokens → embeddings', 'Attention (one block, one head)', 'The MLP', 'Block after block', 'Logits → knobs → the pick'];

/** The hooks the walk reads for block `b` of a model with `nLayer` blocks. */
export function walkHooks(b: number, nLayer: number): string[] {
  const p = `blocks.${b}.`;
  const block = ['hook_resid_pre', 'ln1.hook_normalized', 'attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_attn_scores', 'attn.hook_pattern', 'attn.hook_z', 'hook_attn_out', 'hook_resid_mid', 'ln2.hook_normalized', 'mlp.hook_pre', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post'].map((n) => p + n);
  const posts = Array.from({ length: nLayer }, (_, i) => `blocks.${i}.hook_resid_post`);
  return [...new Set(['hook_embed', 'hook_pos_embed', ...block, ...posts, 'ln_final.hook_normalized'])];
}

/** Each knob's stage: /api/next with the knobs up to and including it (the server's order), for the same ids. */
interface Stage {
  name: KnobName | 'raw';
  value: number | null;
  next: NextResponse;
}

function Names({ hf, tl }: { hf: string[]; tl: string[] }) {
  return (
    <p class="walk-names">
      Look up:{' '}
      {hf.length > 0 && (
        <>
          HF weights{' '}
          {hf.map((n) => (
            <code key={n}>{n} </code>
          ))}
          ·{' '}
        </>
      )}
      TransformerLens hooks{' '}
      {tl.map((n) => (
        <code key={n}>{n} </code>
      ))}
    </p>
  );
}

const norm = (v: number[]): number => Math.sqrt(v.reduce((a, x) => a + x * x, 0));

const hexOr = (b: number[] | null): string => (b ? hexBytes(b) : 'bytes ?');

/** A token's bytes: the tokenizer's (prompt tokens), else its text's UTF-8 when that text is whole characters. */
function tokenBytes(known: number[] | null | undefined, text: string): number[] | null {
  if (known) return known;
  return text.includes('\uFFFD') ? null : [...new TextEncoder().encode(text)];
}

export function Walk({ ids, bytes, info, knobs, stale, active, onOpen }: { ids: number[]; bytes: (number[] | null)[]; info: ModelInfo; knobs: KnobState; stale: boolean; active: boolean; onOpen: (v: View) => void }) {
  const { n_layer, n_head, n_embd } = info.config;
  const D = n_embd / n_head;
  const [step, setStep] = useState(0);
  const [pos, setPos] = useState<number | null>(null);
  const [block, setBlock] = useState(0);
  const [head, setHead] = useState(0);
  const [fwd, setFwd] = useState<{ key: string; res: ForwardResponse } | null>(null);
  const [stages, setStages] = useState<{ key: string; list: Stage[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  // the export: the forward pass with its captures and the /api/next answers of step 5, as the API sent them
  const exported = useMemo(() => (fwd ? { forward: fwd.res, next: stages?.list ?? null } : null), [fwd, stages]);
  usePublishExport('walk', exported);
  const T = ids.length;
  const p = pos === null || pos >= T ? T - 1 : pos;
  const fwdKey = JSON.stringify([ids, block]);
  const nextKey = JSON.stringify([ids.slice(0, p + 1), knobs]);

  useEffect(() => {
    if (!active || !T || stale || fwd?.key === fwdKey) return;
    const ctrl = new AbortController();
    setError(null);
    if (T > info.limits.max_forward_tokens) {
      setError(`The walk is limited to ${info.limits.max_forward_tokens} tokens on this server (GPT-2 itself reads ${info.config.n_positions}); this text has ${T}.`);
      return;
    }
    api.forward({ input_ids: ids, attentions: false, lens: true, lens_top: 1, capture: walkHooks(block, n_layer) }, ctrl.signal).then(
      (res) => setFwd({ key: fwdKey, res }),
      (err) => !isAbort(err) && setError(err instanceof ApiCallError ? err.message : String(err)),
    );
    return () => ctrl.abort();
  }, [active, fwdKey, stale]);

  useEffect(() => {
    if (!active || !T || stale || stages?.key === nextKey) return;
    const ctrl = new AbortController();
    const prefix = ids.slice(0, p + 1);
    (async () => {
      // the knobs in the server's order: ask once with all of them, then once per prefix of that order
      const all = await api.next({ input_ids: prefix, top: 5, ...knobFields(knobs) }, ctrl.signal);
      const want = all.reported.map((r) => r.id).slice(0, 5);
      const fields = knobFields(knobs) as Record<string, number>;
      const list: Stage[] = [{ name: 'raw', value: null, next: await api.next({ input_ids: prefix, top: 5, ids: want }, ctrl.signal) }];
      for (let i = 0; i < all.knobs.length; i++) {
        const upTo = Object.fromEntries(all.knobs.slice(0, i + 1).map((k) => [k.name, fields[k.name]]));
        const n = await api.next({ input_ids: prefix, top: 5, ids: want, ...upTo }, ctrl.signal);
        list.push({ name: all.knobs[i]!.name, value: all.knobs[i]!.value, next: n });
      }
      setStages({ key: nextKey, list });
    })().catch((err) => !isAbort(err) && setError(err instanceof ApiCallError ? err.message : String(err)));
    return () => ctrl.abort();
  }, [active, nextKey, stale]);

  const res = fwd?.key === fwdKey ? fwd.res : null;
  const cap = (name: string): CaptureJson => res!.captures![name]!;
  const go = (d: number): void => setStep((s) => Math.max(0, Math.min(STEP_TITLES.length - 1, s + d)));

  return (
    <div
      class="walk"
      tabIndex={0}
      data-walk-ready={res && stages?.key === nextKey ? 'true' : 'false'}
      onKeyDown={(e) => {
        const tag = (e.target as HTMLElement).tagName;
        if (tag === 'SELECT' || tag === 'INPUT') return;
        if (e.key === 'ArrowRight') go(1);
        else if (e.key === 'ArrowLeft') go(-1);
        else return;
        e.preventDefault();
      }}
    >
      <div class="controls">
        <label>
          Position{' '}
          <select id="walk-pos" value={p} onChange={(e) => setPos(Number((e.target as HTMLSelectElement).value))}>
            {ids.map((_, i) => (
              <option value={i} key={i}>
                {i}: {visible(res?.tokens[i] ?? '')}
              </option>
            ))}
          </select>
        </label>
        <label>
          Block{' '}
          <select id="walk-block" value={block} onChange={(e) => setBlock(Number((e.target as HTMLSelectElement).value))}>
            {Array.from({ length: n_layer }, (_, i) => (
              <option value={i} key={i}>
                {i}
              </option>
            ))}
          </select>
        </label>
        <label>
          Head{' '}
          <select id="walk-head" value={head} onChange={(e) => setHead(Number((e.target as HTMLSelectElement).value))}>
            {Array.from({ length: n_head }, (_, i) => (
              <option value={i} key={i}>
                {i}
              </option>
            ))}
          </select>
        </label>
        <span class="walk-nav">
          <button type="button" id="walk-back" onClick={() => go(-1)} disabled={step === 0}>
            ← Back
          </button>
          <span class="walk-count">
            step {step + 1} of {STEP_TITLES.length}
          </span>
          <button type="button" id="walk-next" class="primary" onClick={() => go(1)} disabled={step === STEP_TITLES.length - 1}>
            Next →
          </button>
        </span>
      </div>
      {error && (
        <p class="error" role="alert" id="walk-error">
          {error}
        </p>
      )}
      {!res && !error && <p class="hint">Computing… one forward pass with every intermediate tensor of block {block}.</p>}
      {res && (
        <section class="walk-step" data-walk-step={step + 1} aria-live="polite">
          <h3>
            {step + 1}. {STEP_TITLES[step]}
          </h3>
          {step === 0 && (
            <>
              <p class="walk-formula">x₀[t] = wte[id_t] + wpe[t]</p>
              <p>
                The text is cut into {T} tokens (each shown with its id and its UTF-8 bytes in hex: GPT-2's tokenizer works on bytes, so a token
                can hold part of a character); position {p} is <code>{JSON.stringify(res.tokens[p])}</code>, id {ids[p]}. GPT-2 looks up row {ids[p]} of
                the token-embedding table and row {p} of the position-embedding table ({n_embd} numbers each) and adds them: the sum is the residual
                stream that every block reads and adds to.
              </p>
              <div class="walk-tokens">
                {res.tokens.map((t, i) => (
                  <span class={`chip small${i === p ? ' on' : ''}`} key={i} data-walk-token={i} data-token-id={ids[i]}>
                    {visible(t)} <sub>{ids[i]}</sub>{' '}
                    <span class="walk-bytes" title="the token's UTF-8 bytes (hex)">{hexOr(tokenBytes(bytes[i], t))}</span>
                  </span>
                ))}
              </div>
              <Vec name="hook_embed" label={`wte[${ids[p]}]`} shape={`[${n_embd}]`} values={row(cap('hook_embed'), p)} />
              <Vec name="hook_pos_embed" label={`+ wpe[${p}]`} shape={`[${n_embd}]`} values={row(cap('hook_pos_embed'), p)} />
              <Vec name="blocks.0.hook_resid_pre" label="= x₀" shape={`[${n_embd}]`} values={row(cap(`blocks.0.hook_resid_pre`), p)} />
              <Names hf={['wte.weight', 'wpe.weight']} tl={['hook_embed', 'hook_pos_embed', 'blocks.0.hook_resid_pre']} />
            </>
          )}
          {step === 1 && (() => {
            const pre = row(cap(`blocks.${block}.hook_resid_pre`), p);
            const mean = pre.reduce((a, b) => a + b, 0) / n_embd;
            const variance = pre.reduce((a, b) => a + (b - mean) ** 2, 0) / n_embd;
            // [n_head, T, T]: row (head, p) starts at (head·T + p)·T
            const scores = cap(`blocks.${block}.attn.hook_attn_scores`).data.slice((head * T + p) * T, (head * T + p + 1) * T);
            const pattern = cap(`blocks.${block}.attn.hook_pattern`).data.slice((head * T + p) * T, (head * T + p) * T + p + 1);
            return (
              <>
                <p class="walk-formula">z = softmax(q·kᵀ/√{D} + mask) · v, with q, k, v = ln_1(x) · c_attn (head {head}: columns {head * D}…{head * D + D - 1})</p>
                <p>
                  <code>ln_1</code> rescales the residual stream of position {p}: mean <span data-walk="mean">{mean.toFixed(4)}</span>, variance{' '}
                  <span data-walk="variance">{variance.toFixed(4)}</span> become 0 and 1, then a learnt gain and bias apply. <code>c_attn</code> makes a query,
                  a key and a value per head. The query of position {p} is compared with the key of every position up to it; later positions are masked.
                </p>
                <Vec name={`blocks.${block}.hook_resid_pre`} label="x" shape={`[${n_embd}]`} values={pre} />
                <Vec name={`blocks.${block}.ln1.hook_normalized`} label="ln_1(x)" shape={`[${n_embd}]`} values={row(cap(`blocks.${block}.ln1.hook_normalized`), p)} />
                <Vec name={`blocks.${block}.attn.hook_q`} label={`q (head ${head})`} shape={`[${D}]`} values={row(cap(`blocks.${block}.attn.hook_q`), p, head * D, D)} />
                <Vec name={`blocks.${block}.attn.hook_k`} label={`k (head ${head})`} shape={`[${D}]`} values={row(cap(`blocks.${block}.attn.hook_k`), p, head * D, D)} />
                <Vec name={`blocks.${block}.attn.hook_v`} label={`v (head ${head})`} shape={`[${D}]`} values={row(cap(`blocks.${block}.attn.hook_v`), p, head * D, D)} />
                <Vec name={`blocks.${block}.attn.hook_attn_scores`} label={`q·kᵀ/√${D} (−∞ = masked)`} shape={`[${T}]`} values={scores} all />
                <p>softmax → the pattern (each row sums to 100%):</p>
                <ProbRow name={`blocks.${block}.attn.hook_pattern`} values={pattern} tokens={res.tokens} />
                <Vec name={`blocks.${block}.attn.hook_z`} label="z = Σ pattern·v" shape={`[${D}]`} values={row(cap(`blocks.${block}.attn.hook_z`), p, head * D, D)} />
                <Vec name={`blocks.${block}.hook_attn_out`} label="c_proj(z of all heads)" shape={`[${n_embd}]`} values={row(cap(`blocks.${block}.hook_attn_out`), p)} />
                <Vec name={`blocks.${block}.hook_resid_mid`} label="x + attention" shape={`[${n_embd}]`} values={row(cap(`blocks.${block}.hook_resid_mid`), p)} />
                <p>
                  <button type="button" class="link" onClick={() => onOpen('attention')}>
                    See every head's pattern in the Attention view
                  </button>
                </p>
                <Names
                  hf={[`h.${block}.ln_1.weight`, `h.${block}.ln_1.bias`, `h.${block}.attn.c_attn.weight`, `h.${block}.attn.c_proj.weight`]}
                  tl={['ln1.hook_normalized', 'attn.hook_q', 'attn.hook_k', 'attn.hook_v', 'attn.hook_attn_scores', 'attn.hook_pattern', 'attn.hook_z', 'hook_attn_out', 'hook_resid_mid'].map((n) => `blocks.${block}.${n}`)}
                />
              </>
            );
          })()}
          {step === 2 && (
            <>
              <p class="walk-formula">x ← x + c_proj(gelu_new(ln_2(x) · c_fc))</p>
              <p>
                The MLP works on each position alone: <code>c_fc</code> widens the normalised stream to {cap(`blocks.${block}.mlp.hook_pre`).dims[1]} numbers, gelu_new
                lets positive values through and squashes negative ones towards 0 (the dots are this position&apos;s values), and <code>c_proj</code> brings
                them back to {n_embd}, added to the residual stream.
              </p>
              <Vec name={`blocks.${block}.ln2.hook_normalized`} label="ln_2(x)" shape={`[${n_embd}]`} values={row(cap(`blocks.${block}.ln2.hook_normalized`), p)} />
              <Vec name={`blocks.${block}.mlp.hook_pre`} label="c_fc" shape={`[${cap(`blocks.${block}.mlp.hook_pre`).dims[1]}]`} values={row(cap(`blocks.${block}.mlp.hook_pre`), p)} />
              <GeluCurve values={row(cap(`blocks.${block}.mlp.hook_pre`), p).slice(0, 256)} />
              <Vec name={`blocks.${block}.mlp.hook_post`} label="gelu_new" shape={`[${cap(`blocks.${block}.mlp.hook_post`).dims[1]}]`} values={row(cap(`blocks.${block}.mlp.hook_post`), p)} />
              <Vec name={`blocks.${block}.hook_mlp_out`} label="c_proj" shape={`[${n_embd}]`} values={row(cap(`blocks.${block}.hook_mlp_out`), p)} />
              <Vec name={`blocks.${block}.hook_resid_post`} label="x + MLP" shape={`[${n_embd}]`} values={row(cap(`blocks.${block}.hook_resid_post`), p)} />
              <Names
                hf={[`h.${block}.ln_2.weight`, `h.${block}.mlp.c_fc.weight`, `h.${block}.mlp.c_proj.weight`]}
                tl={['ln2.hook_normalized', 'mlp.hook_pre', 'mlp.hook_post', 'hook_mlp_out', 'hook_resid_post'].map((n) => `blocks.${block}.${n}`)}
              />
            </>
          )}
          {step === 3 && (
            <>
              <p class="walk-formula">‖x‖ after each block, and ln_f(x)·wteᵀ read out early (the logit lens)</p>
              <p>
                Each block adds to the same stream. Its size grows block by block; reading it out early shows what the model would predict if it stopped
                there.
              </p>
              <table class="walk-blocks">
                <thead>
                  <tr>
                    <th>after</th>
                    <th>‖x‖</th>
                    <th>top token (lens)</th>
                  </tr>
                </thead>
                <tbody>
                  {Array.from({ length: n_layer }, (_, i) => {
                    const lens = res.lens?.[i + 1]?.[p]?.[0];
                    return (
                      <tr key={i} data-walk-block={i}>
                        <th>block {i}</th>
                        <td data-value={norm(row(cap(`blocks.${i}.hook_resid_post`), p))}>{norm(row(cap(`blocks.${i}.hook_resid_post`), p)).toFixed(2)}</td>
                        <td data-token-id={lens?.id}>{lens ? `${visible(lens.token)} ${percent(lens.prob)}` : ''}</td>
                      </tr>
                    );
                  })}
                </tbody>
              </table>
              <p>
                <button type="button" class="link" onClick={() => onOpen('lens')}>
                  Every position and block in the Logit lens view
                </button>
              </p>
              <Names hf={[]} tl={[`blocks.{0..${n_layer - 1}}.hook_resid_post`]} />
            </>
          )}
          {step === 4 && (
            <>
              <p class="walk-formula">logit[id] = ln_f(x)·wte[id] → knobs (HF&apos;s order) → softmax → the pick</p>
              <p>
                <code>ln_f</code> normalises the stream one last time; each token&apos;s logit is its dot product with that token&apos;s embedding row. The knobs
                then change the logits one after another, in the order Hugging Face applies them, and softmax turns the result into probabilities.
              </p>
              <Vec name="ln_final.hook_normalized" label="ln_f(x)" shape={`[${n_embd}]`} values={row(cap('ln_final.hook_normalized'), p)} />
              {stages?.key === nextKey ? <KnobStages stages={stages.list} /> : <p class="hint">Computing the logits…</p>}
              <Names hf={['ln_f.weight', 'ln_f.bias', 'wte.weight (the tied head)']} tl={['ln_final.hook_normalized']} />
            </>
          )}
        </section>
      )}
    </div>
  );
}

const OP: Partial<Record<KnobName, string>> = { temperature: '÷', repetition_penalty: 'penalty' };

/** The top tokens' scores through each knob, all from the server's answers; the last column is the probability. */
function KnobStages({ stages }: { stages: Stage[] }) {
  const raw = stages[0]!.next;
  const ids = raw.reported.map((r) => r.id);
  const last = stages.at(-1)!.next;
  const pick = last.processed[0];
  return (
    <>
      <table class="walk-knobs">
        <thead>
          <tr>
            <th>token</th>
            <th>logit</th>
            {stages.slice(1).map((s) => (
              <th key={s.name}>
                {KNOB_LABEL[s.name as KnobName]} {s.value}
              </th>
            ))}
            <th>softmax</th>
          </tr>
        </thead>
        <tbody>
          {ids.map((id) => {
            const at = (n: NextResponse) => n.reported.find((r) => r.id === id)!;
            return (
              <tr key={id} data-token-id={id}>
                <th>{visible(at(raw).token)}</th>
                <td data-walk-logit={at(raw).logit}>{fixed2(at(raw).logit)}</td>
                {stages.slice(1).map((s, i) => {
                  const before = at(stages[i]!.next).score;
                  const now = at(s.next).score;
                  const op = OP[s.name as KnobName];
                  return (
                    <td key={s.name} data-walk-score={now ?? '-inf'}>
                      {now === null
                        ? 'removed (−∞)'
                        : op === '÷'
                          ? `${fixed2(before!)} ÷ ${s.value} = ${fixed2(now)}`
                          : before !== now
                            ? `${fixed2(before!)} → ${fixed2(now)}`
                            : fixed2(now)}
                    </td>
                  );
                })}
                <td data-prob={at(last).prob}>{percent(at(last).prob)}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {pick && (
        <p class="walk-pick" data-token-id={pick.id}>
          Greedy picks <code>{JSON.stringify(pick.token)}</code> ({percent(pick.prob)}); sampling draws from the last column.
        </p>
      )}
    </>
  );
}
