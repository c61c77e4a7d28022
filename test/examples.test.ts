// The runnable examples: the README's quick start (examples/quickstart.ts) and the beam-search exercise
// (examples/beam-search.ts), run as printed, with HF's numbers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURE_DIR, REPO_ROOT, readGolden } from './helpers/fixtures.js';
import { readTokenizerFolder } from '../src/node/tokenizer.js';

test('examples/quickstart.ts on the fixture: the notebook ids, HF\'s top token and HF\'s greedy text', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples/quickstart.ts'), FIXTURE_DIR], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^\[ 464, 4583, 286, 44449, 318 \]/);
  assert.equal(lines[1], '" healing" 0.1252'); // golden-generate greedy_20: the first token and its softmax
  const golden = readGolden<{ cases: Array<{ name: string; sequences: number[][] }> }>('golden-generate.json').cases.find((c) => c.name === 'greedy_20')!;
  const tokenizer = readTokenizerFolder(FIXTURE_DIR);
  const greedy = lines.find((l) => l.startsWith('greedy: '));
  assert.equal(greedy, `greedy: ${tokenizer.decode(golden.sequences[0]!.slice(0, 5 + 15))}`);
  assert.ok(lines.some((l) => l.startsWith('beam  : The theory of relativity is')));
  assert.ok(lines.some((l) => l.startsWith('sample: The theory of relativity is')));
});

// ---- examples/beam-search.ts: the notebook's exercise against HF's beam search ----

interface BeamCase {
  name: string;
  kwargs: { num_beams?: number; max_new_tokens: number; eos_token_id?: number; length_penalty?: number; repetition_penalty?: number; no_repeat_ngram_size?: number; pad_token_id: number };
  input_ids: number[][];
  sequences: number[][];
  sequences_scores?: number[];
}

test('examples/beam-search.ts: simpleBeamSearch returns HF\'s sequence wherever only the ranking rule could differ, and the length penalty explains every difference', async () => {
  const { simpleBeamSearch } = await import('../examples/beam-search.js');
  const { GPT2LMHeadModel } = await import('../src/index.js');
  await import('../src/node/model.js');
  const model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  const all = readGolden<{ cases: BeamCase[] }>('golden-generate.json').cases;
  // single-prompt beam cases without logits processors (they change the scores, which the simple search does not)
  const cases = all.filter((c) => (c.kwargs.num_beams ?? 1) > 1 && c.input_ids.length === 1 && !c.kwargs.repetition_penalty && !c.kwargs.no_repeat_ngram_size);
  assert.equal(cases.length, 13);
  const same: string[] = [];
  const differ: string[] = [];
  for (const c of cases) {
    const prompt = c.input_ids[0]!;
    const eos = c.kwargs.eos_token_id ?? 50256;
    const lp = c.kwargs.length_penalty ?? 1;
    // HF's best sequence, without the padding finalize() adds after an eos
    const hf = c.sequences[0]!;
    const end = hf.indexOf(eos, prompt.length);
    const best = end === -1 ? hf : hf.slice(0, end + 1);
    const ours = await simpleBeamSearch(model, prompt, { num_beams: c.kwargs.num_beams!, max_new_tokens: c.kwargs.max_new_tokens, eos_token_id: eos });
    // HF's score of a hypothesis: sum of log-probs / (new tokens, eos included) ** length_penalty
    const hfScore = (b: { ids: number[]; logprob: number }) => b.logprob / (b.ids.length - prompt.length) ** lp;
    if (JSON.stringify(ours[0]!.ids) === JSON.stringify(best)) {
      same.push(c.name);
      assert.ok(Math.abs(hfScore(ours[0]!) - c.sequences_scores![0]!) < 1e-4, `${c.name}: sequences_scores = our sum / new_tokens^lp`);
    } else {
      differ.push(c.name);
      // HF's answer is among our hypotheses with the same sum of log-probs; we rank it below ours by the sum, HF
      // ranks it above ours by sum / new_tokens ** length_penalty: the ranking rule is the whole difference.
      const theirs = ours.find((b) => JSON.stringify(b.ids) === JSON.stringify(best));
      assert.ok(theirs, `${c.name}: HF's sequence is among ours`);
      assert.ok(Math.abs(hfScore(theirs) - c.sequences_scores![0]!) < 1e-4, c.name);
      assert.ok(theirs.logprob < ours[0]!.logprob && hfScore(theirs) > hfScore(ours[0]!), `${c.name}: the two rankings disagree`);
      assert.ok(ours[0]!.ids.length < best.length, `${c.name}: the sum prefers the shorter hypothesis`);
    }
  }
  // Same: no eos reached (every hypothesis has max_new_tokens tokens, so dividing by the length ranks as the sum
  // does), or an eos hypothesis that is best by sum and by average alike (length_penalty 1 or 0.5).
  assert.deepEqual(same, ['beam2', 'beam4', 'beam2_eos', 'beam4_eos_es_true', 'beam4_eos_es_false', 'beam4_eos_es_never', 'beam4_eos_lp0.5', 'beam4_geos_lp0.5', 'beam4_return2']);
  // Different: length_penalty 2 favours the long hypothesis; with a frequent eos the sum favours a 2-token
  // hypothesis (sum -4.54) where HF's average favours a 20-token one (-1.32 per token).
  assert.deepEqual(differ, ['beam4_eos_lp2', 'beam4_feos_es_true', 'beam4_feos_es_false', 'beam4_feos_es_never']);
});

test('npx tsx examples/beam-search.ts on the fixture prints both searches and agrees on beam4', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples/beam-search.ts'), '--model', FIXTURE_DIR, '--beams', '4', '--max-new-tokens', '12'], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const golden = readGolden<{ cases: BeamCase[] }>('golden-generate.json').cases.find((c) => c.name === 'beam4')!;
  const text = readTokenizerFolder(FIXTURE_DIR).decode(golden.sequences[0]!);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'simpleBeamSearch, 4 beams:');
  assert.match(lines[1]!, /^ +-15\.693\d {2}/);
  assert.ok(lines[1]!.endsWith(JSON.stringify(text)));
  assert.ok(lines.includes(`  ${golden.sequences_scores![0]!.toFixed(4).padStart(9)}  ${JSON.stringify(text)}`));
  assert.equal(lines[lines.length - 2], 'the best sequences are the same');
  const bad = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples/beam-search.ts'), '--model', FIXTURE_DIR, '--beams', '0'], { cwd: REPO_ROOT, encoding: 'utf8' });
  assert.equal(bad.status, 2);
  assert.equal(bad.stderr.trim(), '--beams and --max-new-tokens must be positive integers, got 0 and 12');
});

test('examples/interventions.ts (docs/interventions.md) runs as printed on the fixture', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples/interventions.ts'), FIXTURE_DIR], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'hooked logits: 1x1x50257');
  assert.match(lines[1]!, /^ablated top: (".*" 0\.\d{4}, ){2}".*" 0\.\d{4}$/);
  const m = /^attribution: logit (-?[\d.]+), 15 components summing to (-?[\d.]+)$/.exec(lines[2]!);
  assert.ok(m && m[1] === m[2], lines[2]);
  assert.equal(lines[3], 'patching: 2 × 14 cells; clean diff 13.0710, corrupted 8.2783');
});
