// Beam search as a tree (d3-hierarchy). The root is the prompt; each column is one step. Solid nodes are beams that
// were kept; grey ones are candidates that were considered and pruned, or beams whose line died out later; a ringed
// node ended a finished hypothesis, numbered by its rank. The tree is rebuilt from the events received so far, so it
// grows while the search runs: ranks are then those among the hypotheses finished so far (the newest event's list),
// and final with the last event. The tree opens fitted to its box (root and newest column both in view); "Actual
// size" shows it unscaled and scrolls to follow the growing edge. Greedy's path (from a num_beams 1 run on the same
// text) is drawn over it, as far as its tokens are nodes of the tree.
import { useEffect, useRef, useState } from 'preact/hooks';
import { hierarchy, linkHorizontal, tree } from 'd3';
import type { BeamEvent, FinishedBeam } from '../api.ts';
import { fixed2, visible } from '../format.ts';

export type NodeStatus = 'root' | 'alive' | 'dead' | 'pruned' | 'finished';

export interface TreeNode {
  key: string;
  /** the token id (-1 for the root and for an eos ending, whose id the event does not carry) */
  id: number;
  label: string;
  /** running sum of log-probabilities (beams), or the candidate's score (pruned) */
  score: number | null;
  status: NodeStatus;
  /** 1-based rank of the finished hypothesis that ends here */
  rank?: number;
  children: TreeNode[];
}

const beamKey = (step: number, i: number): string => (step < 0 ? 'root' : `b${step}:${i}`);

const hypothesisKey = (f: FinishedBeam): string => `${f.step}:${f.parent}:${f.ids.join(',')}`;

/**
 * Builds the tree from the `beam` events of one run received so far. `lengthPenalty` turns the score of a
 * hypothesis that was pushed out of the n-best list back into its running sum (it is drawn as pruned).
 */
export function buildBeamTree(prompt: string, events: BeamEvent[], lengthPenalty = 1): TreeNode {
  const root: TreeNode = { key: 'root', id: -1, label: prompt, score: 0, status: 'root', children: [] };
  const nodes = new Map<string, TreeNode>([['root', root]]);
  const ranked = rankFinished(events);
  for (const ev of events) {
    const s = ev.step;
    ev.beams.forEach((b, i) => {
      const node: TreeNode = { key: beamKey(s, i), id: b.id, label: b.token, score: b.score, status: 'alive', children: [] };
      nodes.set(node.key, node);
      nodes.get(beamKey(s - 1, b.parent))?.children.push(node);
    });
    ev.pruned.forEach((p, j) => {
      const node: TreeNode = { key: `p${s}:${j}`, id: p.id, label: p.token, score: p.score, status: 'pruned', children: [] };
      nodes.get(beamKey(s - 1, p.parent))?.children.push(node);
    });
    for (const f of ev.finished) {
      if (f.step !== s) continue; // each event repeats the hypotheses finished so far
      const rank = ranked.get(hypothesisKey(f));
      if (f.ended === 'length') {
        // a beam still running at the end: its node is already there
        const node = nodes.get(beamKey(s, f.parent));
        if (node) Object.assign(node, { status: 'finished', rank, score: f.score });
        continue;
      }
      const key = `f${s}:${f.parent}:${f.ids.join(',')}`;
      if (nodes.has(key)) continue;
      // a hypothesis no longer in the newest list was pushed out by better ones (or is not returned): pruned after all
      const node: TreeNode = rank
        ? { key, id: -1, label: f.token, score: f.score, status: 'finished', rank, children: [] }
        : { key, id: -1, label: f.token, score: f.score * (f.step + 1) ** lengthPenalty, status: 'pruned', children: [] };
      nodes.set(key, node);
      nodes.get(beamKey(s - 1, f.parent))?.children.push(node);
    }
  }
  // A kept beam none of whose descendants survived to the end is a dead line: grey it like a pruned candidate.
  const last = events.length ? events[events.length - 1]!.step : -1;
  const mark = (n: TreeNode, depth: number): boolean => {
    let lives = n.status === 'finished' || (n.status === 'alive' && depth === last);
    for (const c of n.children) lives = mark(c, depth + 1) || lives;
    if (n.status === 'alive' && !lives) n.status = 'dead';
    return lives;
  };
  mark(root, -1);
  // Kept lines first, then what was dropped; each group best score first.
  const order = (n: TreeNode): number => (n.status === 'alive' || n.status === 'finished' ? 0 : 1);
  const sort = (n: TreeNode): void => {
    n.children.sort((a, b) => order(a) - order(b) || (b.score ?? 0) - (a.score ?? 0));
    n.children.forEach(sort);
  };
  sort(root);
  return root;
}

/** Ranks (best score first) of the hypotheses of the newest event: final once the last event is in. */
function rankFinished(events: BeamEvent[]): Map<string, number> {
  const newest = events.length ? events[events.length - 1]!.finished : [];
  return new Map([...newest].sort((a, b) => b.score - a.score).map((f, i) => [hypothesisKey(f), i + 1]));
}

/**
 * The nodes along `path` (new token ids) from the root, as far as the tree has them: at each step the child with
 * that token id. The result's length is how many of the path's tokens are in the tree.
 */
export function pathNodes(root: TreeNode, path: readonly number[]): TreeNode[] {
  const out: TreeNode[] = [];
  let at = root;
  for (const id of path) {
    const next = at.children.find((c) => c.id === id);
    if (!next) break;
    out.push(next);
    at = next;
  }
  return out;
}

const COLUMN = 112;
const ROW = 24;
/** the box's height in fit mode (CSS pixels); a smaller tree keeps its natural size */
const FIT_HEIGHT = 440;

export function BeamTree({ root, greedy = [] }: { root: TreeNode; greedy?: readonly number[] }) {
  const [fit, setFit] = useState(true);
  const box = useRef<HTMLDivElement>(null);
  const h = hierarchy(root, (n) => n.children);
  const leaves = Math.max(1, h.leaves().length);
  // siblings one row apart, cousins a little more: compact, but the branches stay apart
  const layout = tree<TreeNode>()
    .nodeSize([ROW, COLUMN])
    .separation((a, b) => (a.parent === b.parent ? 1 : 1.25));
  const laid = layout(h);
  let minX = Infinity;
  let maxX = -Infinity;
  let maxY = 0;
  laid.each((n) => {
    minX = Math.min(minX, n.x);
    maxX = Math.max(maxX, n.x);
    maxY = Math.max(maxY, n.y);
  });
  const width = maxY + COLUMN + 60;
  const height = Math.max(maxX - minX + ROW * 2, leaves * 4);
  const link = linkHorizontal<unknown, { x: number; y: number }>()
    .x((d) => d.y)
    .y((d) => d.x);
  const offsetY = -minX + ROW;
  const onGreedy = new Set(pathNodes(root, greedy).map((n) => n.key));
  onGreedy.add('root');
  // the newest column's best kept node: what "Actual size" scrolls to as the tree grows
  let edge: { x: number; y: number } | null = null;
  laid.each((n) => {
    if (n.y === maxY && (n.data.status === 'alive' || n.data.status === 'finished') && (!edge || n.x < edge.x)) edge = n;
  });
  useEffect(() => {
    const el = box.current;
    if (fit || !el || !edge) return;
    const e = edge as { x: number; y: number };
    el.scrollLeft = el.scrollWidth;
    el.scrollTop = Math.max(0, e.x + offsetY - el.clientHeight / 2);
  }, [fit, width, height]);
  const scale = fit ? Math.min(1, FIT_HEIGHT / height) : 1;
  return (
    <>
      <div class="tree-tools">
        <label>
          <input type="checkbox" id="beam-fit" checked={fit} onChange={(e) => setFit((e.target as HTMLInputElement).checked)} /> Fit the whole tree in the box
        </label>
      </div>
      <div class={`tree-scroll${fit ? ' fit' : ''}`} ref={box} tabIndex={0} aria-label="Beam search tree">
        <svg
          class="beam-tree"
          data-export="beam-tree"
          data-fit={fit ? 'true' : 'false'}
          width={fit ? '100%' : width}
          height={fit ? Math.ceil(height * scale) : height}
          viewBox={`0 0 ${width} ${height}`}
          preserveAspectRatio="xMinYMid meet"
          role="img"
          aria-label="Beam search tree"
        >
          <g transform={`translate(12, ${offsetY})`}>
            {laid.links().map((l) => {
              const g = onGreedy.has(l.source.data.key) && onGreedy.has(l.target.data.key);
              return (
                <path
                  key={`${l.source.data.key}-${l.target.data.key}`}
                  class={`link ${l.target.data.status}${g ? ' greedy' : ''}`}
                  data-greedy={g ? 'true' : undefined}
                  d={link({ source: l.source, target: l.target }) ?? ''}
                />
              );
            })}
            {laid.descendants().map((n) => (
              <g
                key={n.data.key}
                class={`node ${n.data.status}${onGreedy.has(n.data.key) && n.data.status !== 'root' ? ' greedy' : ''}`}
                data-depth={n.depth}
                data-token-id={n.data.id >= 0 ? n.data.id : undefined}
                data-greedy={onGreedy.has(n.data.key) && n.data.status !== 'root' ? 'true' : undefined}
                transform={`translate(${n.y}, ${n.x})`}
              >
                <title>
                  {n.data.status === 'root'
                    ? 'the prompt'
                    : `${JSON.stringify(n.data.label)} · ${n.data.status}` +
                      (n.data.score !== null ? ` · score ${fixed2(n.data.score)}` : '') +
                      (onGreedy.has(n.data.key) ? ' · on greedy’s path' : '')}
                </title>
                <circle r={n.data.status === 'finished' ? 6 : 4} />
                {n.data.rank ? (
                  <text class="rank" x={0} y={3.5} text-anchor="middle">
                    {n.data.rank}
                  </text>
                ) : null}
                <text class="label" x={9} y={-2}>
                  {n.data.status === 'root' ? 'prompt' : visible(n.data.label)}
                </text>
                {n.data.score !== null && n.data.status !== 'root' && (
                  <text class="score" x={9} y={9}>
                    {fixed2(n.data.score)}
                  </text>
                )}
              </g>
            ))}
          </g>
        </svg>
      </div>
    </>
  );
}
