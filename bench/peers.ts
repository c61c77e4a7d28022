// npm run bench -- peers [--quick] [--threads=1,2]: our engine beside onnxruntime-node and transformers.js, in one
// run, on the same random GPT-2 (random:gpt2: the exact 124M shape, RANDOM weights, fp32).
//
// 1. Installs the peers on first run into bench/peers/node_modules (bench/peers/package.json + its lockfile;
//    not dependencies of gpt2-lens; `ONNXRUNTIME_NODE_INSTALL=skip`: onnxruntime-node's CPU binary is in its
//    package, the install script would only fetch GPU ones).
// 2. Writes the ONNX export of our weights (bench/onnx: optimum's decoder interface, opset 17) to
//    bench/peers/models/random-gpt2 (reused while the writer and the spec are unchanged), after checking the
//    writer on random:64x2x4 with non-trivial biases and LayerNorm gains: onnxruntime's logits against our reference
//    forward, with and without the KV cache, within 1e-4.
// 3. Runs each peer, on 1 and 2 threads, in a process of its own (its peak RSS is its own): forward of 8 and
//    128 tokens with every position's logits; greedy generate of 128 new tokens after an 8-token prompt at batch 1
//    and batch 4 (4 copies: beam search's batch with 4 beams), end to end; peak RSS (VmHWM).
// 4. Checks that the three produce the same logits (8-token prompt, every position: max |difference| ≤ 1e-3, else
//    the bench fails) and says whether their greedy continuations agree, then prints the table with ratios.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { mulberry32, parseRandomSpec, randomConfig, randomWeights } from '../src/model/random.js';
import type { GPT2Config, GPT2Weights } from '../src/model/types.js';
import { writeOnnxModel } from './onnx/write.js';
import { LONG, NEW_TOKENS, PEERS, PROMPT, ortDecoder, type Ort, type PeerName, type PeerResult } from './peers/run-peer.js';

const BENCH = fileURLToPath(new URL('.', import.meta.url));
const ROOT = join(BENCH, '..');
const PEERS_DIR = join(BENCH, 'peers');
const MODELS = join(PEERS_DIR, 'models');
const SPEC = 'random:gpt2';
/** logits of the three may differ by this much (fp32, different summation orders) */
const TOLERANCE = 1e-3;
/** the ONNX writer against our reference, on the small model */
const WRITER_TOLERANCE = 1e-4;

function installPeers(): void {
  const have = (pkg: string): boolean => existsSync(join(PEERS_DIR, 'node_modules', pkg, 'package.json'));
  if (have('onnxruntime-node') && have('@huggingface/transformers')) return;
  console.log('installing the peers into bench/peers/node_modules (npm ci --prefix bench/peers, ONNXRUNTIME_NODE_INSTALL=skip) ...');
  const r = spawnSync('npm', ['ci', '--prefix', PEERS_DIR, '--no-audit', '--no-fund'], { stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
  if (r.status !== 0) throw new Error(`installing the peers failed (npm ci --prefix bench/peers exited with ${r.status})`);
}

/**
 * The writer's own check, on random:64x2x4 with random biases and LayerNorm parameters (random:'s are 0 and 1,
 * which would hide a wrongly wired bias): onnxruntime's logits against our reference forward, for 6 tokens at
 * once, and for 4 tokens then 2 single tokens through the ONNX model's KV cache (batch 2, positions from 0).
 */
async function checkWriter(): Promise<void> {
  const config = randomConfig(parseRandomSpec('random:64x2x4'));
  const w = randomWeights(config, 3);
  const rand = mulberry32(9);
  const jitter = (a: Float32Array, base: number): void => {
    for (let i = 0; i < a.length; i++) a[i] = base + 0.2 * (rand() - 0.5);
  };
  jitter(w.ln_f.weight, 1);
  jitter(w.ln_f.bias, 0);
  for (const b of w.h) {
    for (const ln of [b.ln_1, b.ln_2]) {
      jitter(ln.weight, 1);
      jitter(ln.bias, 0);
    }
    for (const c of [b.attn.c_attn, b.attn.c_proj, b.mlp.c_fc, b.mlp.c_proj]) jitter(c.bias, 0);
  }
  const dir = join(MODELS, 'check-64x2x4');
  writeOnnxModel(dir, config, w);
  // resolved from bench/peers (its node_modules), not from the package's
  const ort = (await import(pathToFileURL(createRequire(join(PEERS_DIR, 'package.json')).resolve('onnxruntime-node')).href)) as Ort;
  const session = await ort.InferenceSession.create(join(dir, 'onnx', 'model.onnx'));
  const rows = [PROMPT.slice(0, 6), [50256, 11, 2, 7, 900, 13]];
  const ref = new GPT2LMHeadModel({ config, weights: w }).forwardSync({ input_ids: rows }).logits.data; // [2, 6, V]
  const V = config.vocab_size;
  const run = ortDecoder(ort, session, config);
  /** max |ONNX − reference| over positions [from, from + T) of both rows */
  const diff = (logits: Float32Array, from: number, T: number): number => {
    let m = 0;
    for (let b = 0; b < 2; b++) {
      for (let i = 0; i < T * V; i++) m = Math.max(m, Math.abs(logits[b * T * V + i]! - ref[(b * 6 + from) * V + i]!));
    }
    return m;
  };
  const whole = diff((await run(rows, 0, null)).logits.data as Float32Array, 0, 6);
  let out = await run(rows.map((r) => r.slice(0, 4)), 0, null);
  let cached = diff(out.logits.data as Float32Array, 0, 4);
  for (const p of [4, 5]) {
    out = await run(rows.map((r) => [r[p]!]), p, out);
    cached = Math.max(cached, diff(out.logits.data as Float32Array, p, 1));
  }
  console.log(`ONNX writer check (random:64x2x4, random biases and gains, onnxruntime vs our reference): 6 tokens at once max |diff| ${whole.toExponential(2)}, through the KV cache ${cached.toExponential(2)} (tolerance ${WRITER_TOLERANCE})`);
  if (!(whole <= WRITER_TOLERANCE && cached <= WRITER_TOLERANCE)) throw new Error(`the ONNX export differs from the reference forward by more than ${WRITER_TOLERANCE}: the writer (bench/onnx) is wrong`);
}

/** The full model's folder; rewritten when the writer's source or the spec changed. */
function ensureModel(): string {
  const dir = join(MODELS, 'random-gpt2');
  const hash = createHash('sha256').update(SPEC);
  for (const f of readdirSync(join(BENCH, 'onnx')).sort()) hash.update(f).update(readFileSync(join(BENCH, 'onnx', f)));
  const stamp = hash.digest('hex');
  const stampFile = join(dir, 'stamp.txt');
  if (existsSync(stampFile) && readFileSync(stampFile, 'utf8') === stamp && existsSync(join(dir, 'onnx', 'model.onnx'))) {
    console.log(`ONNX export of ${SPEC}: ${dir} (up to date)`);
    return dir;
  }
  rmSync(dir, { recursive: true, force: true });
  const t0 = performance.now();
  const config: GPT2Config = randomConfig(parseRandomSpec(SPEC));
  const weights: GPT2Weights = randomWeights(config, parseRandomSpec(SPEC).seed);
  const bytes = writeOnnxModel(dir, config, weights);
  writeFileSync(stampFile, stamp);
  console.log(`ONNX export of ${SPEC}: ${(bytes / 1e6).toFixed(0)} MB written to ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return dir;
}

function runPeer(peer: PeerName, threads: number, dir: string, outDir: string, quick: boolean): { result: PeerResult; logits: Float32Array } {
  const out = join(outDir, `${peer}-${threads}`);
  const args = ['--import', 'tsx', join(PEERS_DIR, 'run-peer.ts'), peer, String(threads), dir, out, ...(quick ? ['--quick'] : [])];
  const t0 = performance.now();
  const r = spawnSync(process.execPath, args, { cwd: ROOT, stdio: 'inherit', timeout: 15 * 60 * 1000 });
  if (r.status !== 0) throw new Error(`${peer} on ${threads} thread(s) failed (exit ${r.status ?? r.signal})`);
  const result = JSON.parse(readFileSync(`${out}.json`, 'utf8')) as PeerResult;
  const b = readFileSync(`${out}.f32`);
  const logits = new Float32Array(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength));
  console.log(
    `  ${peer} ${result.version}, ${threads} thread${threads > 1 ? 's' : ''}: load ${(result.loadMs / 1000).toFixed(1)} s, forward 8 ${result.forward8Ms.toFixed(1)} ms, 128 ${result.forward128Ms.toFixed(0)} ms, ` +
      `generate b1 ${result.generate1.toFixed(1)} tok/s, b4 ${result.generate4.toFixed(1)} tok/s, peak RSS ${result.peakRssMB.toFixed(0)} MB (${((performance.now() - t0) / 1000).toFixed(0)} s)`,
  );
  return { result, logits };
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** The first step at which two greedy continuations differ, or -1. */
function firstDivergence(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (a[i] !== b[i]) return i;
  return -1;
}

export async function run(flags: string[]): Promise<void> {
  const quick = flags.includes('--quick');
  const tf = flags.find((f) => f.startsWith('--threads='));
  const threadList = tf ? tf.slice('--threads='.length).split(',').map(Number) : [1, 2];
  if (threadList.some((n) => !Number.isInteger(n) || n < 1)) throw new Error(`--threads= takes a list of thread counts, e.g. --threads=1,2; got "${tf}"`);
  installPeers();
  mkdirSync(MODELS, { recursive: true });
  await checkWriter();
  const dir = ensureModel();
  const outDir = join(MODELS, 'results');
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });

  const n = quick ? 16 : NEW_TOKENS;
  console.log(`\nmodel: ${SPEC} (RANDOM weights, the 124M shape, fp32); machine: ${cpus().length} cores, load average ${loadavg()[0]!.toFixed(1)} at the start`);
  console.log(`protocol: forward ${PROMPT.length} and ${LONG.length} tokens with every position's logits (best of 3 and ${quick ? 1 : 2} after a warm-up); greedy generate of ${n} new tokens after ${PROMPT.length} at batch 1 and 4, end to end, one run each; each peer in its own process\n`);
  const results: Record<string, PeerResult> = {};
  const failures: string[] = [];
  for (const threads of threadList) {
    const logits: Partial<Record<PeerName, Float32Array>> = {};
    for (const peer of PEERS) {
      const r = runPeer(peer, threads, dir, outDir, quick);
      results[`${peer}/${threads}`] = r.result;
      logits[peer] = r.logits;
    }
    const ours = logits['gpt2-lens']!;
    const t1 = results[`gpt2-lens/${threads}`]!.tokens1;
    for (const peer of PEERS.slice(1)) {
      const d = maxDiff(ours, logits[peer]!);
      const div = firstDivergence(t1, results[`${peer}/${threads}`]!.tokens1);
      console.log(`  logits ${peer} vs gpt2-lens (${PROMPT.length} tokens × ${ours.length / PROMPT.length} at every position): max |diff| ${d.toExponential(2)}${d <= TOLERANCE ? '' : `  FAIL: above ${TOLERANCE}`}; greedy continuation ${div < 0 ? `identical (${t1.length} tokens)` : `differs from step ${div}`}`);
      if (!(d <= TOLERANCE)) failures.push(`${peer} (${threads} threads): logits differ from gpt2-lens's by ${d.toExponential(2)} > ${TOLERANCE}`);
    }
    const d = maxDiff(logits['onnxruntime-node']!, logits['transformers.js']!);
    console.log(`  logits transformers.js vs onnxruntime-node: max |diff| ${d.toExponential(2)}`);
    for (const peer of PEERS) if (!results[`${peer}/${threads}`]!.batch4SameAsBatch1) console.log(`  note: ${peer}'s batch-4 rows did not all continue like batch 1`);
  }

  const v = (p: PeerName): string => results[`${p}/${threadList[0]}`]!.version;
  console.log(`\nmodel ${SPEC}, ${n} new tokens; (×r) = the peer's figure ÷ gpt2-lens's (tok/s: above 1 the peer is faster; ms and MB: above 1 it takes more); load average ${loadavg()[0]!.toFixed(1)} at the end\n`);
  console.log(`| measure | gpt2-lens ${v('gpt2-lens')} | onnxruntime-node ${v('onnxruntime-node')} | transformers.js ${v('transformers.js')} |`);
  console.log('| --- | --- | --- | --- |');
  const row = (label: string, key: 'forward8Ms' | 'forward128Ms' | 'generate1' | 'generate4' | 'peakRssMB', digits: number): void => {
    for (const threads of threadList) {
      const base = results[`gpt2-lens/${threads}`]![key];
      const cells = PEERS.map((p) => {
        const x = results[`${p}/${threads}`]![key];
        return p === 'gpt2-lens' ? x.toFixed(digits) : `${x.toFixed(digits)} (×${(x / base).toFixed(2)})`;
      });
      console.log(`| ${label}, ${threads} thread${threads > 1 ? 's' : ''} | ${cells.join(' | ')} |`);
    }
  };
  row(`generate, batch 1, ${n} new tokens (tok/s)`, 'generate1', 1);
  row(`generate, batch 4 (tok/s, 4 rows summed)`, 'generate4', 1);
  row(`forward ${PROMPT.length} tokens, all logits (ms)`, 'forward8Ms', 1);
  row(`forward ${LONG.length} tokens, all logits (ms)`, 'forward128Ms', 0);
  row('peak RSS (MB)', 'peakRssMB', 0);
  if (failures.length) {
    console.error(`\nFAIL: the peers do not compute the same model:\n  ${failures.join('\n  ')}`);
    process.exitCode = 1;
  }
}
