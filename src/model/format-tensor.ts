// Printing a tensor the way PyTorch's `print(t)` does (torch/_tensor_str.py, default print options):
//   tensor([[[-0.0470, -0.0333, -0.1626,  ..., -0.1337, -0.0571, -0.1059],
//            ...]])
// and its shape as `torch.Size([1, 5, 768])`. The rules, in PyTorch's terms:
// - Past `threshold` (1000) elements the tensor is summarised: every dimension longer than 2·edgeitems keeps its
//   first and last `edgeitems` (3) entries with `...` between them.
// - One formatter is chosen for the whole tensor from the values that are printed (the summarised ones), looking
//   only at the finite non-zero values:
//     all integers          → "int mode": `3.` (scientific if max/min > 1000 or max > 1e8)
//     otherwise             → `precision` (4) decimals, or scientific `%.4e` if max/min > 1000, max > 1e8 or
//                             min < 1e-4
//   and every entry is right-aligned to the widest one.
// - Rows wrap at `linewidth` (80) columns: floor((linewidth - indent) / (width + 2)) entries per line; nested
//   dimensions are separated by "," plus (dim - 1) newlines and indented one column per bracket.
// Numbers are rounded as Python's format() rounds: the float's exact binary value, ties to even (not toFixed's).
import type { Tensor } from './types.js';

/** PyTorch's `torch.set_printoptions` settings; the defaults are PyTorch's. */
export interface PrintOptions {
  /** digits after the decimal point (default 4) */
  precision?: number;
  /** summarise tensors with more elements than this (default 1000) */
  threshold?: number;
  /** entries kept at each end of a summarised dimension (default 3) */
  edgeitems?: number;
  /** characters per line (default 80) */
  linewidth?: number;
  /** force (true) or forbid (false) scientific notation; default: PyTorch's choice */
  sci_mode?: boolean | null;
}

const DEFAULTS: Required<PrintOptions> = { precision: 4, threshold: 1000, edgeitems: 3, linewidth: 80, sci_mode: null };

/** `torch.Size([1, 5, 768])`, as PyTorch prints `t.shape`. */
export function formatSize(dims: readonly number[]): string {
  return `torch.Size([${dims.join(', ')}])`;
}

// ---- Python's float formatting, exactly: '{:.Nf}' and '{:.Ne}' of a float (a double) ----

/** x = mantissa · 2^exponent exactly, mantissa an integer (x finite, non-zero). */
function exactBinary(x: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/** round(num / den) with ties to even (num, den > 0). */
function roundHalfEven(num: bigint, den: bigint): bigint {
  const q = num / den;
  const twice = 2n * (num - q * den);
  return twice > den || (twice === den && q % 2n === 1n) ? q + 1n : q;
}

/** |x| · 10^shift, rounded to an integer, ties to even (x finite, non-zero). */
function scaledRound(x: number, shift: number): bigint {
  const { mantissa, exponent } = exactBinary(x);
  let num = mantissa;
  let den = 1n;
  if (exponent >= 0) num <<= BigInt(exponent);
  else den <<= BigInt(-exponent);
  if (shift >= 0) num *= 10n ** BigInt(shift);
  else den *= 10n ** BigInt(-shift);
  return roundHalfEven(num, den);
}

function nonFinite(x: number): string | null {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  return null;
}

const sign = (x: number): string => (x < 0 || Object.is(x, -0) ? '-' : '');

/** Python's `f'{x:.{digits}f}'`. */
export function pyFixed(x: number, digits: number): string {
  const special = nonFinite(x);
  if (special) return special;
  if (x === 0) return sign(x) + (digits > 0 ? `0.${'0'.repeat(digits)}` : '0');
  const s = scaledRound(x, digits).toString().padStart(digits + 1, '0');
  return sign(x) + (digits > 0 ? `${s.slice(0, -digits)}.${s.slice(-digits)}` : s);
}

/** Python's `f'{x:.{digits}e}'`, e.g. `-4.7000e-02`. */
export function pyExponential(x: number, digits: number): string {
  const special = nonFinite(x);
  if (special) return special;
  let exp = 0;
  let mant = 0n;
  if (x !== 0) {
    exp = Math.floor(Math.log10(Math.abs(x)));
    const limit = 10n ** BigInt(digits + 1);
    mant = scaledRound(x, digits - exp);
    // log10 can be off by one near powers of ten; rounding can carry to 10.000: fix both.
    while (mant >= limit) mant = scaledRound(x, digits - ++exp);
    while (mant < limit / 10n) mant = scaledRound(x, digits - --exp);
  }
  const s = mant.toString().padStart(digits + 1, '0');
  const body = digits > 0 ? `${s[0]}.${s.slice(1)}` : s;
  return `${sign(x)}${body}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
}

// ---- torch's _Formatter ----

interface Formatter {
  width: number;
  format(x: number): string;
}

function makeFormatter(values: readonly number[], o: Required<PrintOptions>): Formatter {
  const finite = values.filter((v) => Number.isFinite(v) && v !== 0);
  let intMode = true;
  let sciMode = false;
  let width = 1;
  if (finite.length > 0) {
    let min = Infinity;
    let max = 0;
    for (const v of finite) {
      const a = Math.abs(v);
      if (a < min) min = a;
      if (a > max) max = a;
      if (v !== Math.ceil(v)) intMode = false;
    }
    // int mode never switches to scientific for small values (min < 1e-4 cannot happen for integers)
    sciMode = max / min > 1000 || max > 1e8 || (!intMode && min < 1e-4);
    for (const v of finite) {
      const len = sciMode ? pyExponential(v, o.precision).length : intMode ? pyFixed(v, 0).length + 1 : pyFixed(v, o.precision).length;
      if (len > width) width = len;
    }
  }
  if (o.sci_mode !== null) sciMode = o.sci_mode;
  const format = (x: number): string => {
    let s: string;
    if (sciMode) s = pyExponential(x, o.precision);
    else if (intMode) s = pyFixed(x, 0) + (Number.isFinite(x) ? '.' : '');
    else s = pyFixed(x, o.precision);
    return s.padStart(width);
  };
  return { width, format };
}

/** Strides of a row-major tensor. */
function stridesOf(dims: readonly number[]): number[] {
  const s = new Array<number>(dims.length).fill(1);
  for (let d = dims.length - 2; d >= 0; d--) s[d] = s[d + 1]! * dims[d + 1]!;
  return s;
}

/** The indices printed along one dimension: all, or the first and last `edge` when summarising. */
function shownIndices(size: number, summarize: boolean, edge: number): number[] {
  if (summarize && size > 2 * edge) {
    return [...Array.from({ length: edge }, (_, i) => i), ...Array.from({ length: edge }, (_, i) => size - edge + i)];
  }
  return Array.from({ length: size }, (_, i) => i);
}

/**
 * A tensor as PyTorch prints it: `tensor([[0.1000, 0.2000], ...])`, with PyTorch's summarisation, alignment,
 * line wrapping and choice of fixed or scientific notation (see the file comment). Float32 without a dtype suffix,
 * as PyTorch prints its default dtype.
 */
export function formatTensor(t: Tensor, options: PrintOptions = {}): string {
  const o = { ...DEFAULTS, ...options };
  const dims = t.dims;
  const numel = dims.reduce((a, b) => a * b, 1);
  if (numel !== t.data.length) throw new Error(`formatTensor: dims [${dims.join(', ')}] hold ${numel} elements but data has ${t.data.length}`);
  const prefix = 'tensor(';
  if (numel === 0) return dims.length === 1 ? `${prefix}[])` : `${prefix}[], size=(${dims.join(', ')}))`;
  const summarize = numel > o.threshold;
  const strides = stridesOf(dims);

  // The values that will be printed choose the formatter (torch: get_summarized_data).
  const shown: number[] = [];
  const collect = (d: number, offset: number): void => {
    if (d === dims.length) {
      shown.push(t.data[offset]!);
      return;
    }
    for (const i of shownIndices(dims[d]!, summarize, o.edgeitems)) collect(d + 1, offset + i * strides[d]!);
  };
  collect(0, 0);
  const f = makeFormatter(shown, o);
  if (dims.length === 0) return `${prefix}${f.format(t.data[0]!)})`;

  const indent0 = prefix.length;
  const render = (d: number, offset: number, indent: number): string => {
    const size = dims[d]!;
    const cut = summarize && size > 2 * o.edgeitems;
    if (d === dims.length - 1) {
      // a row: entries of `width` characters plus ", ", as many per line as fit in linewidth - indent
      const perLine = Math.max(1, Math.floor((o.linewidth - indent) / (f.width + 2)));
      const items: string[] = [];
      for (const i of shownIndices(size, summarize, o.edgeitems)) {
        if (cut && i === size - o.edgeitems) items.push(' ...');
        items.push(f.format(t.data[offset + i]!));
      }
      const lines: string[] = [];
      for (let i = 0; i < items.length; i += perLine) lines.push(items.slice(i, i + perLine).join(', '));
      return `[${lines.join(`,\n${' '.repeat(indent + 1)}`)}]`;
    }
    const parts: string[] = [];
    for (const i of shownIndices(size, summarize, o.edgeitems)) {
      if (cut && i === size - o.edgeitems) parts.push('...');
      parts.push(render(d + 1, offset + i * strides[d]!, indent + 1));
    }
    // sub-tensors are separated by "," and (dims left - 1) newlines: one between rows, two between matrices, ...
    return `[${parts.join(`,${'\n'.repeat(dims.length - d - 1)}${' '.repeat(indent + 1)}`)}]`;
  };
  return `${prefix}${render(0, 0, indent0)})`;
}

/** Python's `repr(x)` of a float: the shortest round-trip digits, `1e-05`, `0.1`, `1.0`, `1e+16`. */
export function pyFloatRepr(x: number): string {
  const special = nonFinite(x);
  if (special) return special;
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const [mantissa, e] = x.toExponential().split('e') as [string, string]; // shortest digits that round-trip
  const exp = Number(e);
  const digits = mantissa.replace('-', '').replace('.', '');
  if (exp < -4 || exp >= 16) return `${sign(x)}${digits[0]}${digits.length > 1 ? `.${digits.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  if (exp < 0) return `${sign(x)}0.${'0'.repeat(-exp - 1)}${digits}`;
  const int = digits.slice(0, exp + 1).padEnd(exp + 1, '0');
  const frac = digits.slice(exp + 1);
  return `${sign(x)}${int}.${frac || '0'}`;
}
