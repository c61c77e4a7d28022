// Beam search as a tree (d3-hierarchy). The root is the prompt; each column is one step. Solid nodes are beams that
// were kept; grey ones are candidates that were considered and pruned, or beams whose line died out later; a ringed
// node ended a finished hypothesis, numbered by its final rank.
import { hierarchy, linkHorizontal, tree } from 'd3';
import type { BeamEvent, FinishedBeam } from '../api.ts';
import { fixed2, visible } from '../format.ts';

export type NodeStatus = 'root' | 'alive' | 'dead' | 'pruned' | 'finished';

export interface TreeNode {
  key: string;
  label: string;
  /** running sum of log-probabilities (beams), or the candidate's score (pruned) */
  score: number | null;
  status: NodeStatus;
  /** 1-based rank of the finished hypothesis that ends here */
  rank?: number;
  children: TreeNode[];
}

const beamKey = (step: number, i: number): string => (step < 0 ? 'root' : `b${step}:${i}`);

/** Builds the tree from the `beam` events of one run. */
export function buildBeamTree(prompt: string, events: BeamEvent[]): TreeNode {
  const root: TreeNode = { key: 'root', label: prompt, score: 0, status: 'root', children: [] };
  const nodes = new Map<string, TreeNode>([['root', root]]);
  const ranked = rankFinished(events);
  for (const ev of events) {
    const s = ev.step;
    ev.beams.forEach((b, i) => {
      const node: TreeNode = { key: beamKey(s, i), label: b.token, score: b.score, status: 'alive', children: [] };
      nodes.set(node.key, node);
      nodes.get(beamKey(s - 1, b.parent))?.children.push(node);
    });
    ev.pruned.forEach((p, j) => {
      const node: TreeNode = { key: `p${s}:${j}`, label: p.token, score: p.score, status: 'pruned', children: [] };
      nodes.get(beamKey(s - 1, p.parent))?.children.push(node);
    });
    for (const f of ev.finished) {
      if (f.step !== s) continue; // each event repeats the hypotheses finished so far
      if (f.ended === 'length') {
        // a beam still running at the end: its node is already there
        const node = nodes.get(beamKey(s, f.parent));
        if (node) Object.assign(node, { status: 'finished', rank: ranked.get(f), score: f.score });
        continue;
      }
      const key = `f${s}:${f.parent}:${f.ids.join(',')}`;
      if (nodes.has(key)) continue;
      const node: TreeNode = { key, label: f.token, score: f.score, status: 'finished', rank: ranked.get(f), children: [] };
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

/** Final ranks of the hypotheses (best score first), keyed by the event object of the last step. */
function rankFinished(events: BeamEvent[]): Map<FinishedBeam, number> {
  const out = new Map<FinishedBeam, number>();
  if (!events.length) return out;
  const all = events[events.length - 1]!.finished;
  const byKey = new Map<string, number>();
  [...all].sort((a, b) => b.score - a.score).forEach((f, i) => byKey.set(`${f.step}:${f.parent}:${f.ids.join(',')}`, i + 1));
  for (const ev of events) for (const f of ev.finished) out.set(f, byKey.get(`${f.step}:${f.parent}:${f.ids.join(',')}`) ?? 0);
  return out;
}

const COLUMN = 112;
const ROW = 24;

export function BeamTree({ root }: { root: TreeNode }) {
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
  return (
    <div class="tree-scroll" tabIndex={0} aria-label="Beam search tree">
      <svg class="beam-tree" width={width} height={height} role="img" aria-label="Beam search tree">
        <g transform={`translate(12, ${offsetY})`}>
          {laid.links().map((l) => (
            <path
              key={`${l.source.data.key}-${l.target.data.key}`}
              class={`link ${l.target.data.status}`}
              d={link({ source: l.source, target: l.target }) ?? ''}
            />
          ))}
          {laid.descendants().map((n) => (
            <g key={n.data.key} class={`node ${n.data.status}`} transform={`translate(${n.y}, ${n.x})`}>
              <title>
                {n.data.status === 'root'
                  ? 'the prompt'
                  : `${JSON.stringify(n.data.label)} · ${n.data.status}` + (n.data.score !== null ? ` · score ${fixed2(n.data.score)}` : '')}
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
  );
}
