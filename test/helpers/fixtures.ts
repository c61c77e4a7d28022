// Where the HF goldens live, and how tests compare tensors with them (llm.c's test_gpt2 style: the worst
// error is reported with the tensor's name and the position where it occurs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** ../shared/fixtures/gpt2-tiny, beside the repository (CI puts shared/ there). */
export const FIXTURE_DIR = process.env.GPT2_LENS_FIXTURES ?? join(REPO_ROOT, '..', 'shared', 'fixtures', 'gpt2-tiny');

export function fixturePath(name: string): string {
  return join(FIXTURE_DIR, name);
}

/** Parses a golden JSON file; the strings "inf", "-inf", "nan" stay strings (see toNumber). */
export function readGolden<T = unknown>(name: string): T {
  return JSON.parse(readFileSync(fixturePath(name), 'utf8')) as T;
}

/**
 * How many entries each golden list holds (one truth for every test that loops over one): a test asserts it read
 * them all with `expectCases`, so a shortened or truncated golden file fails instead of testing less.
 */
export const GOLDEN_COUNTS = {
  'golden-forward.json cases': 6,
  'golden-generate.json cases': 24,
  'golden-processors.json vectors': 4,
  'golden-processors.json single': 18,
  'golden-processors.json chains': 4,
  'golden-tokenizer.json cases': 348,
} as const;

/** Asserts that a golden list holds its known number of entries (GOLDEN_COUNTS) and returns it. */
export function expectCases<T>(list: readonly T[], which: keyof typeof GOLDEN_COUNTS): readonly T[] {
  assert.equal(list.length, GOLDEN_COUNTS[which], `${which}: read ${list.length} entries, the fixtures hold ${GOLDEN_COUNTS[which]}`);
  return list;
}

/** A golden float: a number, or one of the strings "inf", "-inf", "nan". */
export function toNumber(v: number | string): number {
  if (typeof v === 'number') return v;
  if (v === 'inf') return Infinity;
  if (v === '-inf') return -Infinity;
  if (v === 'nan') return NaN;
  throw new Error(`not a golden number: ${JSON.stringify(v)}`);
}

/** Flattens nested arrays of golden numbers into a Float64Array. */
export function flat(nested: unknown): Float64Array {
  const out: number[] = [];
  const walk = (x: unknown): void => {
    if (Array.isArray(x)) for (const y of x) walk(y);
    else out.push(toNumber(x as number | string));
  };
  walk(nested);
  return Float64Array.from(out);
}

/** Reads a `{file, offset, shape, dtype:"float32", byteorder:"little"}` reference into a golden .bin file. */
export function readBinRef(ref: { file: string; offset: number; shape: number[] }): Float32Array {
  const bytes = readFileSync(fixturePath(ref.file));
  const n = ref.shape.reduce((a, b) => a * b, 1);
  const out = new Float32Array(n);
  const view = new DataView(bytes.buffer, bytes.byteOffset + ref.offset, n * 4);
  for (let i = 0; i < n; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}

function indexToPosition(i: number, dims: number[] | undefined): string {
  if (!dims || dims.length === 0) return `[${i}]`;
  const pos: number[] = [];
  let rest = i;
  for (let d = dims.length - 1; d >= 0; d--) {
    pos.unshift(rest % dims[d]!);
    rest = Math.floor(rest / dims[d]!);
  }
  return `[${pos.join(', ')}]`;
}

export interface CloseOptions {
  atol: number;
  rtol?: number;
  /** dims of the tensor, to report the worst position as [b, t, c] rather than a flat index */
  dims?: number[];
  /** compare only where mask(i) is true */
  mask?: (i: number) => boolean;
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| everywhere, and returns the worst absolute error.
 * The failure message names the tensor, the worst position, both values and how many elements failed.
 */
export function assertClose(name: string, actual: ArrayLike<number>, expected: ArrayLike<number>, opts: CloseOptions): number {
  assert.equal(actual.length, expected.length, `${name}: length ${actual.length} != expected ${expected.length}`);
  const rtol = opts.rtol ?? 0;
  let worst = 0;
  let worstAt = -1;
  let failures = 0;
  let firstFail = -1;
  for (let i = 0; i < expected.length; i++) {
    if (opts.mask && !opts.mask(i)) continue;
    const a = actual[i]!;
    const e = expected[i]!;
    if (!Number.isFinite(e) || !Number.isFinite(a)) {
      if (!Object.is(a, e) && !(Number.isNaN(a) && Number.isNaN(e))) {
        failures++;
        if (firstFail < 0) firstFail = i;
      }
      continue;
    }
    const err = Math.abs(a - e);
    if (err > worst) {
      worst = err;
      worstAt = i;
    }
    if (err > opts.atol + rtol * Math.abs(e)) {
      failures++;
      if (firstFail < 0) firstFail = i;
    }
  }
  if (failures > 0) {
    const at = worstAt >= 0 ? worstAt : firstFail;
    assert.fail(
      `${name}: ${failures} of ${expected.length} values differ beyond atol ${opts.atol} rtol ${rtol}; ` +
        `worst |err| ${worst.toExponential(3)} at ${indexToPosition(at, opts.dims)} ` +
        `(got ${actual[at]}, expected ${expected[at]})`,
    );
  }
  return worst;
}
