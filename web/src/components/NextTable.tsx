// The next-token table: GPT-2's probabilities for the token after the prompt, as bars. The pale bar is the raw
// softmax; the solid bar is the distribution after the knobs, the one sampling draws from. A token a knob removed
// is struck through and says which knob removed it. Click a row (or press Enter on it) to append that token.
import type { KnobName, LensEntry, NextResponse } from '../api.ts';
import { percent, thousands, visible } from '../format.ts';

const KNOB_LABEL: Record<KnobName, string> = {
  repetition_penalty: 'repetition penalty',
  temperature: 'temperature',
  top_k: 'top-k',
  top_p: 'top-p',
  min_p: 'min-p',
};

export interface Row {
  id: number;
  token: string;
  raw: number;
  /** probability after the knobs (0 when removed) */
  after: number;
  removedBy: KnobName | null;
}

/** The table's rows: the raw top tokens, then any token the knobs lifted into the top that was not there. */
export function tableRows(next: NextResponse): Row[] {
  const after = new Map(next.processed.map((p) => [p.id, p.prob]));
  const rows: Row[] = next.top.map((t) => ({
    id: t.id,
    token: t.token,
    raw: t.prob,
    after: after.get(t.id) ?? 0,
    removedBy: next.removed_by[String(t.id)] ?? null,
  }));
  const seen = new Set(rows.map((r) => r.id));
  for (const p of next.processed) {
    if (!seen.has(p.id)) rows.push({ id: p.id, token: p.token, raw: NaN, after: p.prob, removedBy: null });
  }
  return rows;
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

export function NextTable({ next, onPick, busy }: { next: NextResponse; onPick: (row: Row) => void; busy: boolean }) {
  const rows = tableRows(next);
  const scale = Math.max(...rows.map((r) => Math.max(r.raw || 0, r.after)), 1e-9);
  return (
    <div class={`next-table${busy ? ' busy' : ''}`} aria-busy={busy}>
      <div class="next-head" aria-hidden="true">
        <span>token</span>
        <span>
          <span class="swatch raw" /> raw softmax <span class="swatch after" /> after the knobs
        </span>
      </div>
      <ol class="rows" aria-label="Next-token candidates">
        {rows.map((r) => (
          <li key={r.id}>
            <button
              type="button"
              class={`row${r.removedBy ? ' removed' : ''}`}
              data-id={r.id}
              data-token-id={r.id}
              data-prob={r.after}
              onClick={() => onPick(r)}
              aria-disabled={busy}
              title={`id ${r.id}: click to append this token`}
            >
              <span class="row-token">{visible(r.token)}</span>
              <span class="bars">
                {Number.isFinite(r.raw) && <span class="bar raw" style={{ width: `${(r.raw / scale) * 100}%` }} />}
                <span class="bar after" style={{ width: `${(r.after / scale) * 100}%` }} />
              </span>
              <span class="row-p">
                {r.removedBy ? (
                  <span class="badge">removed by {KNOB_LABEL[r.removedBy]}</span>
                ) : (
                  percent(r.after)
                )}
                {Number.isFinite(r.raw) && Math.abs(r.raw - r.after) > 5e-4 && <span class="was"> (raw {percent(r.raw)})</span>}
              </span>
            </button>
          </li>
        ))}
      </ol>
    </div>
  );
}
