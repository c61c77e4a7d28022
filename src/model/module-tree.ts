// GPT-2's module tree as Hugging Face builds it (models/gpt2/modeling_gpt2.py), and `print(model)` in PyTorch's
// format. The tree is made from the config alone (no weights needed), so the 124M model's printout costs nothing.
//
// PyTorch's rules (torch/nn/modules/module.py Module.__repr__, container.py ModuleList.__repr__):
// - a module prints `Name(extra_repr)` when it has no children and a one-line extra_repr; otherwise `Name(`, then
//   each extra_repr line and each child as `(key): child` indented by 2 (continuation lines too), then `)`;
// - ModuleList folds runs of children whose printouts are identical: `(0-11): 12 x GPT2Block(`.
// extra_repr of the leaves: Embedding `50257, 768`; Dropout `p=0.1, inplace=False`; LayerNorm `(768,), eps=1e-05,
// elementwise_affine=True`; Linear `in_features=768, out_features=50257, bias=False`; NewGELUActivation none.
// Conv1D prints `Conv1D(nf=2304, nx=768)` (its own __repr__, added in transformers 4.45 by PR #32425: 4.43.4 itself
// prints `Conv1D()`), and the attention module is `GPT2Attention` (transformers >= 4.48, or eager attention; 4.42 to
// 4.47 with torch >= 2.1.1 name it `GPT2SdpaAttention`, with the same children). This is the printout of the
// notebook: transformers >= 4.48, torch >= 2.0 (which folds the blocks). docs/model.md says so.
import { innerDim } from './config.js';
import { pyFloatRepr } from './format-tensor.js';
import type { GPT2Config } from './types.js';

/** One parameter of a module: its name inside the module, shape and element count. */
export interface ParameterInfo {
  name: string;
  shape: number[];
  count: number;
  /** the full name of the parameter this one is (a tied LM head: 'transformer.wte.weight'); not counted again */
  tied_to?: string;
}

/** A module of the tree, as PyTorch sees it. */
export interface ModuleNode {
  /** the attribute name in the parent ('' for the root), e.g. 'wte', 'h', '0' */
  name: string;
  /** the class name, e.g. 'Embedding', 'GPT2Block' */
  type: string;
  /** what PyTorch's extra_repr (or Conv1D's __repr__) prints inside the parentheses; '' for none */
  extra: string;
  /** the module's own parameters (not its children's) */
  parameters: ParameterInfo[];
  children: ModuleNode[];
}

/** The two printable model classes. */
export type ModelClassName = 'GPT2Model' | 'GPT2LMHeadModel';

const leaf = (name: string, type: string, extra: string, parameters: ParameterInfo[] = []): ModuleNode => ({ name, type, extra, parameters, children: [] });
const param = (name: string, shape: number[], tied_to?: string): ParameterInfo => ({ name, shape, count: shape.reduce((a, b) => a * b, 1), ...(tied_to ? { tied_to } : {}) });
const dropout = (name: string, p: number): ModuleNode => leaf(name, 'Dropout', `p=${pyFloatRepr(p)}, inplace=False`);
const layerNorm = (name: string, c: GPT2Config): ModuleNode =>
  leaf(name, 'LayerNorm', `(${c.n_embd},), eps=${pyFloatRepr(c.layer_norm_epsilon)}, elementwise_affine=True`, [param('weight', [c.n_embd]), param('bias', [c.n_embd])]);
// Conv1D(nf, nx): nf outputs, nx inputs; weight stored [nx, nf] (see conv1d.ts)
const conv1d = (name: string, nf: number, nx: number): ModuleNode => leaf(name, 'Conv1D', `nf=${nf}, nx=${nx}`, [param('weight', [nx, nf]), param('bias', [nf])]);

function block(index: number, c: GPT2Config): ModuleNode {
  const C = c.n_embd;
  const inner = innerDim(c);
  const attn: ModuleNode = {
    name: 'attn',
    type: 'GPT2Attention',
    extra: '',
    parameters: [], // the causal-mask `bias` is a buffer, not a parameter, and PyTorch does not print buffers
    children: [conv1d('c_attn', 3 * C, C), conv1d('c_proj', C, C), dropout('attn_dropout', c.attn_pdrop), dropout('resid_dropout', c.resid_pdrop)],
  };
  const mlp: ModuleNode = {
    name: 'mlp',
    type: 'GPT2MLP',
    extra: '',
    parameters: [],
    children: [conv1d('c_fc', inner, C), conv1d('c_proj', C, inner), leaf('act', 'NewGELUActivation', ''), dropout('dropout', c.resid_pdrop)],
  };
  return { name: String(index), type: 'GPT2Block', extra: '', parameters: [], children: [layerNorm('ln_1', c), attn, layerNorm('ln_2', c), mlp] };
}

/**
 * The module tree of `GPT2Model` or `GPT2LMHeadModel` for a config, in HF's construction order. `tied` (default
 * config.tie_word_embeddings): the LM head's weight is wte's, as in every GPT-2 checkpoint.
 */
export function moduleTree(config: GPT2Config, className: ModelClassName, tied = config.tie_word_embeddings): ModuleNode {
  const C = config.n_embd;
  const transformer: ModuleNode = {
    name: className === 'GPT2Model' ? '' : 'transformer',
    type: 'GPT2Model',
    extra: '',
    parameters: [],
    children: [
      leaf('wte', 'Embedding', `${config.vocab_size}, ${C}`, [param('weight', [config.vocab_size, C])]),
      leaf('wpe', 'Embedding', `${config.n_positions}, ${C}`, [param('weight', [config.n_positions, C])]),
      dropout('drop', config.embd_pdrop),
      { name: 'h', type: 'ModuleList', extra: '', parameters: [], children: Array.from({ length: config.n_layer }, (_, i) => block(i, config)) },
      layerNorm('ln_f', config),
    ],
  };
  if (className === 'GPT2Model') return transformer;
  const head = leaf('lm_head', 'Linear', `in_features=${C}, out_features=${config.vocab_size}, bias=False`, [param('weight', [config.vocab_size, C], tied ? 'transformer.wte.weight' : undefined)]);
  return { name: '', type: 'GPT2LMHeadModel', extra: '', parameters: [], children: [transformer, head] };
}

/** PyTorch's _addindent: every line but the first indented by `spaces`. */
function addIndent(s: string, spaces: number): string {
  return s.split('\n').join(`\n${' '.repeat(spaces)}`);
}

/** Runs of consecutive children with identical printouts, as ModuleList.__repr__ folds them. */
function foldRuns<T>(items: readonly T[], key: (item: T) => string): Array<{ start: number; end: number; item: T; key: string }> {
  const runs: Array<{ start: number; end: number; item: T; key: string }> = [];
  items.forEach((item, i) => {
    const k = key(item);
    const last = runs[runs.length - 1];
    if (last && last.key === k) last.end = i;
    else runs.push({ start: i, end: i, item, key: k });
  });
  return runs;
}

/** `print(module)` in PyTorch's format (see the file comment). */
export function moduleRepr(node: ModuleNode): string {
  if (node.type === 'ModuleList') {
    if (node.children.length === 0) return 'ModuleList()';
    const lines = foldRuns(node.children, moduleRepr).map((r) =>
      addIndent(r.start === r.end ? `(${r.start}): ${r.key}` : `(${r.start}-${r.end}): ${r.end - r.start + 1} x ${r.key}`, 2),
    );
    return `ModuleList(\n  ${lines.join('\n  ')}\n)`;
  }
  const extraLines = node.extra ? node.extra.split('\n') : [];
  const childLines = node.children.map((c) => `(${c.name}): ${addIndent(moduleRepr(c), 2)}`);
  const lines = [...extraLines, ...childLines];
  if (lines.length === 0) return `${node.type}()`;
  if (extraLines.length === 1 && childLines.length === 0) return `${node.type}(${extraLines[0]})`;
  return `${node.type}(\n  ${lines.join('\n  ')}\n)`;
}

/** Parameters of a module and its children, a tied parameter counted once (HF's num_parameters()). */
export function parameterCount(node: ModuleNode): number {
  let n = 0;
  for (const p of node.parameters) if (!p.tied_to) n += p.count;
  for (const c of node.children) n += parameterCount(c);
  return n;
}

const thousands = (n: number): string => n.toLocaleString('en-US');

/**
 * Parameter counts per module (modules without parameters left out, identical blocks folded as in the printout)
 * and the total, as a table:
 *   transformer                  124,439,808
 *     wte                         38,597,376
 *     h                           85,054,464
 *       0-11: 12 x GPT2Block       7,087,872 each
 */
export function parameterTable(root: ModuleNode): string {
  const rows: Array<[label: string, count: string, note: string]> = [];
  const walk = (node: ModuleNode, depth: number, label: string, each: boolean): void => {
    const n = parameterCount(node);
    const tied = node.parameters.find((p) => p.tied_to);
    if (n === 0 && !tied) return;
    const pad = '  '.repeat(depth);
    if (tied) rows.push([pad + label, thousands(tied.count), `= ${tied.tied_to} (tied: counted once)`]);
    else rows.push([pad + label, thousands(n), each ? 'each' : '']);
    if (node.type === 'ModuleList') {
      for (const r of foldRuns(node.children, (c) => `${moduleRepr(c)}|${parameterCount(c)}`)) {
        const runLabel = r.start === r.end ? r.item.name : `${r.start}-${r.end}: ${r.end - r.start + 1} x ${r.item.type}`;
        walk(r.item, depth + 1, runLabel, r.start !== r.end);
      }
      return;
    }
    for (const c of node.children) walk(c, depth + 1, c.name, false);
  };
  for (const c of root.children) walk(c, 0, c.name, false);
  rows.push(['total', thousands(parameterCount(root)), '']);
  const w0 = rows.reduce((w, r) => Math.max(w, r[0].length), 'module'.length);
  const w1 = rows.reduce((w, r) => Math.max(w, r[1].length), 'parameters'.length);
  const lines = [`${'module'.padEnd(w0)}  ${'parameters'.padStart(w1)}`];
  for (const [label, count, note] of rows) lines.push(`${label.padEnd(w0)}  ${count.padStart(w1)}${note ? `  ${note}` : ''}`.trimEnd());
  return lines.join('\n');
}

/** The tree as JSON data: every module with its parameters' shapes and counts (blocks not folded). */
export interface ModuleJson {
  name: string;
  type: string;
  repr: string;
  parameters: ParameterInfo[];
  parameter_count: number;
  children: ModuleJson[];
}

/** `moduleTree` as plain JSON, with each module's one-line repr (its extra_repr part) and parameter count. */
export function moduleJson(node: ModuleNode): ModuleJson {
  return {
    name: node.name,
    type: node.type,
    repr: node.extra,
    parameters: node.parameters.map((p) => ({ ...p, shape: [...p.shape] })),
    parameter_count: parameterCount(node),
    children: node.children.map(moduleJson),
  };
}
