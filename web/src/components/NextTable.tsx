// The next-token table: GPT-2's probabilities for the token after the prompt. Every row shows the same numbers, all
// from the server's `reported` list (never filled in by the page): the raw logit and softmax, the score after the knobs
// and the probability sampling draws with, and the running sum of that probability (what top-p cuts on). Bars are on
// an absolute scale (100% = the whole bar, with a zoom for small values). A token a knob removed is struck through and
// says which knob removed it. Click a row (or press Enter on it) to append that token.
import { useState } from 'preact/hooks';
import type { KnobName, LensEntry, NextResponse } from '../api.ts';
import { fixed2, percent, thousands, visible } from '../format.ts';

export const KNOB_LABEL: Record<KnobName, string> = {
  repetition_penalty: 'repetition penalty',
  temperature: 'temperature',
  top_k: 'top-k',
  top_p: 'top-p',
  min_p: 'min-p',
};

export interface Row {
  id: number;
  token: string;
  logit: number;
  raw: number;
  /** score after the knobs (null: removed) */
  score: number | null;
  /** probability after the knobs (0 when removed) */
  after: number;
  cumulative: number;
  removedBy: KnobName | null;
}

/** The table's rows: the raw top tokens, then any token the knobs lifted into the top; every number from `reported`. */
export function tableRows(next: NextResponse): Row[] {
  const shown = new Set([...next.top.map((t) => t.id), ...next.processed.map((p) => p.id)]);
  return next.reported
    .filter((r) => shown.has(r.id))
    .map((r) => ({
      id: r.id,
      token: r.token,
      logit: r.logit,
      raw: r.raw_prob,
      score: r.score,
      after: r.prob,
      cumulative: r.cumulative,
      removedBy: next.removed_by[String(r.id)] ?? null,
    }));
}

/** The alternatives a chip remembers: the distribution after the knobs, best first. */
export function alternativesOf(next: NextResponse, n = 5): LensEntry[] {
  return next.processed.slice(0, n).map((p) => ({ id: p.id, token: p.token, prob: p.prob }));
}

export function Summary({ next }: { next: NextResponse }) {
  const parts: string[] = [];
  let first = true;
  for (const k of next.knobs) {
    const n = next.removed_count[k.name];
    if (n === undefined || n === 0) continue;
    parts.push(`${KNOB_LABEL[k.name]} removed ${thousands(n)} token${n === 1 ? '' : 's'}${first ? '' : ' more'}`);
    first = false;
  }
  return (
    <p class="summary" aria-live="polite">
      {next.knobs.length === 0
        ? 'No knobs: this is the raw softmax, what greedy decoding takes the top of.'
        : `${parts.length ? parts.join(' · ') + ' · ' : ''}${thousands(next.kept)} token${next.kept === 1 ? '' : 's'} left to sample from.`}
    </p>
  );
}

const ZOOMS = [1, 10, 100] as const;

export function NextTable({ next, onPick, busy }: { next: NextResponse; onPick: (row: Row) => void; busy: boolean }) {
  const [zoom, setZoom] = useState<number>(1);
  const rows = tableRows(next);
  const width = (p: number): string => `${Math.min(100, p * 100 * zoom)}%`;
  const firstTopP = rows.findIndex((r) => r.removedBy === 'top_p');
  return (
    <div class={`next-table${busy ? ' busy' : ''}`} aria-busy={busy}>
      <div class="next-head">
        <span aria-hidden="true">
          <span class="swatch raw" /> raw softmax <span class="swatch after" /> after the knobs (bar: 0–{Math.round(100 / zoom)}%)
        </span>
        <label class="zoom">
          zoom{' '}
          <select id="bar-zoom" value={zoom} onChange={(e) => setZoom(Number((e.target as HTMLSelectElement).value))}>
            {ZOOMS.map((z) => (
              <option value={z} key={z}>
                {z}×
              </option>
            ))}
          </select>
        </label>
      </div>
      <div class="row row-head" aria-hidden="true">
        <span>token</span>
        <span>probability</span>
        <span class="num">logit</span>
        <span class="num">after knobs</span>
        <span class="num">p</span>
        <span class="num">Σp</span>
      </div>
      <ol class="rows" aria-label="Next-token candidates">
        {rows.map((r, i) => (
          <li key={r.id} class={i === firstTopP ? 'cut-before' : undefined} data-cut={i === firstTopP ? 'top_p' : undefined}>
            {i === firstTopP && <span class="cut-marker">top-p {next.knobs.find((k) => k.name === 'top_p')?.value} cuts here</span>}
            <button
              type="button"
              class={`row${r.removedBy ? ' removed' : ''}`}
              data-id={r.id}
              data-token-id={r.id}
              data-prob={r.after}
              data-raw-prob={r.raw}
              onClick={() => onPick(r)}
              aria-disabled={busy}
              title={`id ${r.id}: click to append this token`}
            >
              <span class="row-token">{visible(r.token)}</span>
              <span class="bars">
                <span class="bar raw" style={{ width: width(r.raw) }} />
                <span class="bar after" style={{ width: width(r.after) }} />
              </span>
              <span class="num row-logit">{fixed2(r.logit)}</span>
              <span class="num row-score">{r.score === null ? '−∞' : fixed2(r.score)}</span>
              <span class="row-p num">
                {r.removedBy ? <span class="badge">removed by {KNOB_LABEL[r.removedBy]}</span> : percent(r.after)}
                <span class="was"> (raw {percent(r.raw)})</span>
              </span>
              <span class="num row-cum">{r.removedBy ? '–' : percent(r.cumulative)}</span>
            </button>
          </li>
        ))}
      </ol>
    </div>
  );
}
