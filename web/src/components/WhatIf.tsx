// "What if": in step mode, force a token the model did not pick and see where the text goes from there. Each
// branch is the current text + one forced token + WHATIF_FOLLOW greedy tokens, scored with the model's raw softmax
// (no knobs): the joint log-probability Σ log p of its tokens, and the mean per token (so branches compare fairly).
// Every number is /api/next's: the forced token's raw_prob comes from `reported` (asked for with `ids`), each
// following token is the top row of the table for the text so far. The branches' forced ids live in the URL
// (`branches`), so a reload or a shared link shows them again.
import { useEffect, useState } from 'preact/hooks';
import { api, isAbort, type Candidate } from '../api.ts';

/** greedy tokens after the forced one in each branch */
export const WHATIF_FOLLOW = 3;

interface BranchToken {
  id: number;
  token: string;
  /** the raw softmax of this token after the text before it */
  prob: number;
}

interface Branch {
  forced: number;
  /** the forced token, then the following ones */
  tokens: BranchToken[];
  joint: number;
  mean: number;
}

/** Scores one branch: the forced token after `ids`, then WHATIF_FOLLOW greedy tokens, each from /api/next. */
async function scoreBranch(ids: number[], forced: number, signal: AbortSignal): Promise<Branch> {
  const first = await api.next({ input_ids: ids, top: 1, ids: [forced] }, signal);
  const rep = first.reported.find((r) => r.id === forced);
  if (!rep) throw new Error(`token ${forced} is missing from /api/next's reported tokens`);
  const tokens: BranchToken[] = [{ id: forced, token: rep.token, prob: rep.raw_prob }];
  const ctx = [...ids, forced];
  for (let k = 0; k < WHATIF_FOLLOW; k++) {
    const n = await api.next({ input_ids: ctx, top: 1 }, signal);
    const best: Candidate = n.top[0]!;
    tokens.push({ id: best.id, token: best.token, prob: best.prob });
    ctx.push(best.id);
  }
  const joint = tokens.reduce((s, t) => s + Math.log(t.prob), 0);
  return { forced, tokens, joint, mean: joint / tokens.length };
}

/** A branch's token as typed: an id ("6342") or the text of exactly one token (" Paris"). */
async function resolveTyped(text: string, vocab: number): Promise<number> {
  if (/^\d+$/.test(text.trim())) {
    const id = Number(text.trim());
    if (id >= vocab) throw new Error(`${id} is not a token id: the vocabulary has ${vocab} tokens`);
    return id;
  }
  const t = await api.tokenize({ text });
  if (t.ids.length !== 1) throw new Error(`"${text}" is ${t.ids.length} tokens, not one: type the text of a single token (spaces count, e.g. " Paris") or its id`);
  return t.ids[0]!;
}

const fmt = (x: number): string => x.toFixed(3);

export function WhatIf(props: { ids: number[]; top: Candidate[] | null; vocab: number; branches: number[]; onChange: (b: number[]) => void; disabled: boolean }) {
  const { ids, branches } = props;
  const [scored, setScored] = useState<Record<number, Branch | string>>({});
  const [typed, setTyped] = useState('');
  const [typedError, setTypedError] = useState<string | null>(null);
  const key = ids.join(',');

  useEffect(() => {
    setScored({});
    if (!ids.length || !branches.length) return;
    const ctrl = new AbortController();
    void (async () => {
      for (const b of branches) {
        try {
          const r = await scoreBranch(ids, b, ctrl.signal);
          setScored((s) => ({ ...s, [b]: r }));
        } catch (err) {
          if (isAbort(err)) return;
          setScored((s) => ({ ...s, [b]: err instanceof Error ? err.message : String(err) }));
        }
      }
    })();
    return () => ctrl.abort();
  }, [key, branches.join(',')]);

  const add = (id: number): void => {
    if (!branches.includes(id)) props.onChange([...branches, id]);
  };
  async function addTyped(e: Event): Promise<void> {
    e.preventDefault();
    try {
      add(await resolveTyped(typed, props.vocab));
      setTyped('');
      setTypedError(null);
    } catch (err) {
      setTypedError(err instanceof Error ? err.message : String(err));
    }
  }

  return (
    <section class="whatif" data-whatif aria-label="What if: force a token and branch">
      <h3>What if…</h3>
      <p class="hint">
        Force a token the model did not pick and see where the text goes: each branch is the forced token and {WHATIF_FOLLOW} greedy tokens after it, with
        their raw probabilities (no knobs). <b>joint</b> = Σ log p of the branch's tokens; <b>mean</b> = joint ÷ {WHATIF_FOLLOW + 1}, per token.
      </p>
      <div class="whatif-pick" role="group" aria-label="Branch on a row">
        {(props.top ?? []).slice(0, 5).map((c) => (
          <button type="button" data-whatif-row={c.id} disabled={props.disabled || branches.includes(c.id)} onClick={() => add(c.id)}>
            ⑂ {JSON.stringify(c.token)}
          </button>
        ))}
      </div>
      <form class="whatif-type" onSubmit={(e) => void addTyped(e)}>
        <input data-whatif-input aria-label="Token text or id to force" placeholder='" Paris" or 6342' value={typed} onInput={(e) => setTyped((e.target as HTMLInputElement).value)} disabled={props.disabled} />
        <button type="submit" data-whatif-add disabled={props.disabled || typed === ''}>
          Branch
        </button>
        {typedError && <span class="error" data-whatif-error role="alert">{typedError}</span>}
      </form>
      {branches.length > 0 && (
        <div class="whatif-branches" data-whatif-branches>
          {branches.map((b, i) => {
            const r = scored[b];
            return (
              <div class="whatif-branch" data-branch={i} data-branch-id={b} {...(typeof r === 'object' ? { 'data-joint-logprob': String(r.joint), 'data-mean-logprob': String(r.mean), 'data-token-probs': r.tokens.map((t) => t.prob).join(',') } : {})}>
                {r === undefined ? (
                  <p class="hint">Computing…</p>
                ) : typeof r === 'string' ? (
                  <p class="error">{r}</p>
                ) : (
                  <>
                    <p class="whatif-text">
                      <mark title={`forced, p = ${r.tokens[0]!.prob.toExponential(3)}`}>{r.tokens[0]!.token}</mark>
                      {r.tokens.slice(1).map((t) => (
                        <span title={`p = ${t.prob.toFixed(4)}`}>{t.token}</span>
                      ))}
                    </p>
                    <p class="whatif-score">
                      joint log p <b data-joint>{fmt(r.joint)}</b> · mean per token <b data-mean>{fmt(r.mean)}</b>
                    </p>
                  </>
                )}
                <button type="button" data-branch-remove onClick={() => props.onChange(branches.filter((x) => x !== b))}>
                  Remove
                </button>
              </div>
            );
          })}
        </div>
      )}
    </section>
  );
}
