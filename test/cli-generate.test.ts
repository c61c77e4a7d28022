// `gpt2-lens next` and `gpt2-lens generate`, spawned as a user runs them, on the fixture model folder; the
// numbers are HF's (golden-generate.json).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FIXTURE_DIR, readGolden } from './helpers/fixtures.js';
import { runCli, type CliResult } from './helpers/cli.js';
import { readTokenizerFolder } from '../src/node/tokenizer.js';

interface Case {
  name: string;
  sequences: number[][];
  sequences_scores?: number[];
  logits_topk?: Array<{ ids: number[][]; values: number[][] }>;
}
const cases = new Map(readGolden<{ cases: Case[] }>('golden-generate.json').cases.map((c) => [c.name, c]));
const PROMPT = 'The theory of relativity is';
const tokenizer = readTokenizerFolder(FIXTURE_DIR);

const cli = (...args: string[]): CliResult => runCli(args);

test('next --json: the prompt ids and the top tokens with raw softmax probabilities and raw logits', () => {
  const r = cli('next', PROMPT, '--model', FIXTURE_DIR, '--top', '5', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { input_ids: number[]; top: Array<{ id: number; token: string; prob: number; logit: number }> };
  assert.deepEqual(Object.keys(out), ['input_ids', 'top']);
  assert.deepEqual(Object.keys(out.top[0]!), ['id', 'token', 'prob', 'logit']);
  assert.deepEqual(out.input_ids, [464, 4583, 286, 44449, 318]);
  const hf = cases.get('greedy_20')!.logits_topk![0]!;
  assert.deepEqual(out.top.map((t) => t.id), hf.ids[0]);
  out.top.forEach((t, i) => assert.ok(Math.abs(t.logit - hf.values[0]![i]!) < 1e-4, `logit of ${t.id}`));
  assert.equal(out.top[0]!.token, ' healing');
  // raw softmax: ratios of probabilities are exp of logit differences, sorted descending
  assert.ok(Math.abs(out.top[0]!.prob / out.top[1]!.prob - Math.exp(out.top[0]!.logit - out.top[1]!.logit)) < 1e-9);
  assert.ok(out.top.every((t, i) => i === 0 || t.prob <= out.top[i - 1]!.prob));
  assert.ok(Math.abs(out.top[0]!.prob - 0.12523985) < 1e-5);
});

test('generate streams the greedy continuation; --json gives ids, text and the log-prob sum', () => {
  const greedy = cases.get('greedy_20')!.sequences[0]!;
  const text = cli('generate', PROMPT, '--model', FIXTURE_DIR, '--max-new-tokens', '20');
  assert.equal(text.code, 0, text.stderr);
  assert.equal(text.stdout, tokenizer.decode(greedy, { clean_up_tokenization_spaces: false }) + '\n');
  const json = cli('generate', PROMPT, '--model', FIXTURE_DIR, '--max-new-tokens', '20', '--repetition-penalty', '10', '--json');
  assert.equal(json.code, 0, json.stderr);
  const out = JSON.parse(json.stdout) as { sequences: Array<{ ids: number[]; text: string; score: number }> };
  const want = cases.get('greedy_rep10')!.sequences[0]!;
  assert.deepEqual(out.sequences[0]!.ids, want);
  assert.equal(out.sequences[0]!.text, tokenizer.decode(want));
  assert.ok(out.sequences[0]!.score < 0 && Number.isFinite(out.sequences[0]!.score));
});

test('generate --num-beams --eos-token-id --num-return-sequences matches HF beam search', () => {
  const c = cases.get('beam4_return2')!;
  const r = cli('generate', PROMPT, '--model', FIXTURE_DIR, '--max-new-tokens', '12', '--num-beams', '4', '--num-return-sequences', '2', '--eos-token-id', '19542', '--pad-token-id', '50256', '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { sequences: Array<{ ids: number[]; text: string; score: number }> };
  assert.deepEqual(out.sequences.map((s) => s.ids), c.sequences);
  out.sequences.forEach((s, i) => assert.ok(Math.abs(s.score - c.sequences_scores![i]!) < 1e-4));
});

test('generate: a bad flag value is a one-line usage error (exit 2)', () => {
  const r = cli('generate', PROMPT, '--model', FIXTURE_DIR, '--early-stopping', 'maybe');
  assert.equal(r.code, 2);
  assert.equal(r.stderr.trim().split('\n').pop(), 'gpt2-lens: --early-stopping must be true, false or never, got "maybe"');
});

test('next: --reference and --threads 1 give the engine default\'s numbers; bad engine flags exit 2', () => {
  const hf = cases.get('greedy_20')!.logits_topk![0]!;
  for (const flags of [['--reference'], ['--threads', '1']]) {
    const r = cli('next', PROMPT, '--model', FIXTURE_DIR, '--top', '5', '--json', ...flags);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as { top: Array<{ id: number; logit: number }> };
    assert.deepEqual(out.top.map((t) => t.id), hf.ids[0], flags.join(' '));
    out.top.forEach((t, i) => assert.ok(Math.abs(t.logit - hf.values[0]![i]!) < 1e-4, `${flags.join(' ')}: logit of ${t.id}`));
  }
  const bad = cli('next', PROMPT, '--model', FIXTURE_DIR, '--dtype', 'fp8');
  assert.equal(bad.code, 2);
  assert.equal(bad.stderr.trim(), 'gpt2-lens: --dtype must be fp32, fp16 or int8, got "fp8"');
  const zero = cli('generate', PROMPT, '--model', FIXTURE_DIR, '--threads', '0');
  assert.equal(zero.code, 2);
  assert.equal(zero.stderr.trim(), 'gpt2-lens: --threads must be a whole number >= 1, got "0"');
});

test('generate --seed: the seed rule of generate() and the API, word for word; a bad seed exits 2', () => {
  const rule = (v: string): string => `gpt2-lens: \`seed\` must be an integer from 0 to 4294967295 (the range transformers.set_seed accepts), but is ${v}`;
  for (const [flag, shown] of [['-1', '-1'], ['9007199254740993', '9007199254740992'], ['4294967296', '4294967296'], ['1.5', '1.5']]) {
    const r = cli('generate', PROMPT, '--model', FIXTURE_DIR, '--do-sample', '--seed', flag!, '--max-new-tokens', '2');
    assert.equal(r.code, 2, `--seed ${flag}: ${r.stderr}`);
    assert.equal(r.stderr.trim().split('\n').pop(), rule(shown!));
  }
  const ok = cli('generate', PROMPT, '--model', FIXTURE_DIR, '--do-sample', '--seed', '4294967295', '--max-new-tokens', '2', '--json');
  assert.equal(ok.code, 0, ok.stderr);
});
