// npm run bench -- tokenizer [--quick]
// Encode and decode speed (MB/s of UTF-8 input) of gpt2-lens's tokenizer against three GPT-2 tokenizers measured in
// the same run: gpt-tokenizer (r50k_base = GPT-2), js-tiktoken (gpt2) and tiktoken's WASM build (gpt2).
// The text is reproducible: files under /usr/share in sorted order, taken in turn from three lists (licences,
// docs' copyright files, man pages gunzipped) until 10 MB, and its first 1 MB. Each run starts with every tokenizer's word cache cleared where
// the library allows it (ours, gpt-tokenizer's); the best of the runs is reported. Ids are compared for identity.
// Decode time includes flattening the returned string (see flatten), since some decoders return a rope. Our decode
// is timed with clean_up_tokenization_spaces=false, as the peers do no clean-up.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { getEncoding } from 'js-tiktoken';
import * as gptTokenizer from 'gpt-tokenizer/encoding/r50k_base';
import { get_encoding } from 'tiktoken';
import { loadBundledTokenizer } from '../src/node/tokenizer.js';

const MB = 1_000_000;

function* walk(dir: string): Generator<string> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch {
    return;
  }
  for (const name of names) {
    const p = join(dir, name);
    let st;
    try {
      st = statSync(p);
    } catch {
      continue;
    }
    if (st.isDirectory()) yield* walk(p);
    else if (st.isFile()) yield p;
  }
}

/** ~`bytes` of text from /usr/share, always the same files in the same order on a given machine. */
export function benchText(bytes: number): { text: string; files: number } {
  const sources: Array<[string, (p: string) => boolean]> = [
    ['/usr/share/common-licenses', () => true],
    ['/usr/share/doc', (p) => p.endsWith('/copyright')],
    ['/usr/share/man', (p) => p.endsWith('.gz')],
  ];
  // One file from each source in turn, so that every part of the text mixes licences, copyright files and man pages.
  const iters = sources.map(([dir, keep]) => ({ files: walk(dir), keep }));
  const parts: string[] = [];
  let total = 0;
  let files = 0;
  const decoder = new TextDecoder('utf-8');
  while (total < bytes && iters.length > 0) {
    for (let k = 0; k < iters.length && total < bytes; k++) {
      const it = iters[k]!;
      let next = it.files.next();
      while (!next.done && !it.keep(next.value)) next = it.files.next();
      if (next.done) {
        iters.splice(k--, 1);
        continue;
      }
      const path = next.value;
      let data: Uint8Array;
      try {
        data = readFileSync(path);
        if (path.endsWith('.gz')) data = gunzipSync(data);
      } catch {
        continue;
      }
      parts.push(decoder.decode(data));
      total += data.length;
      files++;
    }
  }
  return { text: truncateUtf8(parts.join('\n'), bytes), files };
}

/** The longest prefix of text whose UTF-8 is at most `bytes` long (never splitting a surrogate pair). */
function truncateUtf8(text: string, bytes: number): string {
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < text.length && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
    const size = pair ? 4 : c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
    if (n + size > bytes) return text.slice(0, i);
    n += size;
    if (pair) i++;
  }
  return text;
}

interface Impl {
  name: string;
  encode(text: string): ArrayLike<number>;
  decode(ids: ArrayLike<number>): string;
  reset?(): void;
}

/**
 * Decoders that join per-token strings return a rope (a V8 cons-string) whose real cost is paid by its first
 * reader; indexOf flattens it, so every decoder's time includes producing an ordinary string.
 */
function flatten(s: string): string {
  if (s.indexOf('\u0000') === -2) throw new Error('unreachable');
  return s;
}

function timeIt<T>(f: () => T): { ms: number; value: T } {
  const t0 = performance.now();
  const value = f();
  return { ms: performance.now() - t0, value };
}

/** How two id lists differ: '0' when identical, else the count of differing positions and the text at the first. */
function mismatch(a: ArrayLike<number>, b: ArrayLike<number>, show: (ids: number[]) => string): string {
  const n = Math.min(a.length, b.length);
  let diff = 0;
  let first = -1;
  for (let i = 0; i < n; i++) {
    if (a[i] !== b[i]) {
      diff++;
      if (first < 0) first = i;
    }
  }
  if (diff === 0 && a.length === b.length) return '0';
  if (first < 0) first = n;
  const around = show(Array.from({ length: Math.min(6, a.length - first) }, (_, k) => a[first + k]!));
  const escaped = JSON.stringify(around).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return `${diff} (lengths ${a.length} vs ${b.length}; first at token ${first}, text ${escaped})`;
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const runs = quick ? 1 : 3;
  const t0 = performance.now();
  const tok = loadBundledTokenizer();
  const loadMs = performance.now() - t0;
  const tiktokenWasm = get_encoding('gpt2');
  const jsTiktoken = getEncoding('gpt2');
  const utf8 = new TextDecoder();
  const impls: Impl[] = [
    {
      name: 'gpt2-lens',
      encode: (t) => tok.encode(t),
      decode: (ids) => tok.decode(ids, { clean_up_tokenization_spaces: false }),
      reset: () => tok.clearCache(),
    },
    {
      name: 'gpt-tokenizer',
      encode: (t) => gptTokenizer.encode(t),
      decode: (ids) => gptTokenizer.decode(ids as number[]),
      reset: () => gptTokenizer.clearMergeCache(),
    },
    { name: 'js-tiktoken', encode: (t) => jsTiktoken.encode(t), decode: (ids) => jsTiktoken.decode(ids as number[]) },
    { name: 'tiktoken (WASM)', encode: (t) => tiktokenWasm.encode(t), decode: (ids) => utf8.decode(tiktokenWasm.decode(ids as Uint32Array)) },
  ];

  const big = benchText(10 * MB);
  const texts = [
    { label: `mixed 10 MB (${big.files} files)`, text: big.text },
    { label: 'first 1 MB', text: truncateUtf8(big.text, 1 * MB) },
  ];
  console.log(`bundled tokenizer loaded in ${loadMs.toFixed(0)} ms; ${runs} run(s) per measurement, best kept`);

  for (const { label, text } of texts) {
    const bytes = new TextEncoder().encode(text).length;
    const enc = new Map<string, number>();
    const dec = new Map<string, number>();
    const ids = new Map<string, ArrayLike<number>>();
    for (let r = 0; r < runs; r++) {
      for (const impl of impls) {
        impl.reset?.();
        const e = timeIt(() => impl.encode(text));
        enc.set(impl.name, Math.min(enc.get(impl.name) ?? Infinity, e.ms));
        ids.set(impl.name, e.value);
        const d = timeIt(() => flatten(impl.decode(e.value)));
        dec.set(impl.name, Math.min(dec.get(impl.name) ?? Infinity, d.ms));
        if (r === 0 && d.value !== text) console.log(`  note: ${impl.name}'s decode(encode(text)) differs from the text`);
      }
    }
    const mbps = (ms: number): number => bytes / MB / (ms / 1000);
    const peers = impls.slice(1).map((i) => i.name);
    const bestEnc = Math.max(...peers.map((n) => mbps(enc.get(n)!)));
    const bestDec = Math.max(...peers.map((n) => mbps(dec.get(n)!)));
    const ours = ids.get('gpt2-lens')!;
    const feff = (text.match(/\ufeff/g) ?? []).length;
    const nel = (text.match(/\u0085/g) ?? []).length;
    console.log(`\n${label}: ${(bytes / MB).toFixed(2)} MB of UTF-8, ${ours.length} tokens; U+FEFF ×${feff}, U+0085 ×${nel}`);
    console.log('  tokenizer          encode MB/s  vs best peer   decode MB/s  vs best peer   ids differing from gpt2-lens');
    for (const impl of impls) {
      const e = mbps(enc.get(impl.name)!);
      const d = mbps(dec.get(impl.name)!);
      const m = impl.name === 'gpt2-lens' ? '-' : mismatch(ours, ids.get(impl.name)!, (x) => tok.decode(x, { clean_up_tokenization_spaces: false }));
      console.log(`  ${impl.name.padEnd(17)}  ${e.toFixed(2).padStart(11)}  ${(e / bestEnc).toFixed(2).padStart(11)}x  ${d.toFixed(1).padStart(11)}  ${(d / bestDec).toFixed(2).padStart(11)}x   ${m}`);
    }
  }
  console.log(
    '\nPython regex `\\s` (HF, tiktoken in Rust, gpt2-lens) is Unicode White_Space; gpt-tokenizer and js-tiktoken use\n' +
      "JavaScript's \\s, which also matches U+FEFF and misses U+0085, so their ids can differ where the text has them.",
  );
  tiktokenWasm.free();
}
