// Careless input to the CLI and broken models: each gets a clear message and the right exit status, never a stack
// trace, a hang or a silently empty answer. --threads and random: shapes are bounded, a long text's table is printed,
// a reader that stops early (| head) ends the command quietly, a missing subcommand is a usage error, a prompt too
// long for the model is that error alone, and NaN/Infinity logits are a typed error in the core, the CLI and the server.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import '../src/node/model.js';
import { GPT2LMHeadModel, NonFiniteLogitsError, assertFiniteLogits, findNonFiniteLogit, weightsToTensors, writeSafetensors } from '../src/index.js';
import { generate } from '../src/generation/index.js';
import { formatTable } from '../src/cli/commands/tokenize.js';
import { createServer } from '../src/server/index.js';
import { ExplorerSession } from '../src/explorer/session.js';
import { createExplorerHost } from '../src/explorer/host.js';
import type { FromWorker } from '../src/explorer/protocol.js';
import { loadBundledTokenizer } from '../src/node/tokenizer.js';
import type { TokenSpan } from '../src/tokenizer/index.js';
import { CLI_MAIN, runCli, type CliResult } from './helpers/cli.js';
import { FIXTURE_DIR, REPO_ROOT } from './helpers/fixtures.js';
import { tempDirs } from './helpers/temp.js';

const tempDir = tempDirs('gpt2-lens-hardening-');

/** Runs the CLI with its stdout closed before it writes anything (a reader that went away). */
function runWithClosedStdout(args: readonly string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], { cwd: REPO_ROOT });
    child.stdout.destroy(); // our end of the pipe is closed: every write of the child fails with EPIPE
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: '', stderr });
    });
  });
}

/** The fixture model with NaN in block 0's attention bias: every hidden state from h.0 on is NaN. */
async function brokenModel(): Promise<GPT2LMHeadModel> {
  const m = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  m.weights.h[0]!.attn.c_attn.bias.fill(Number.NaN);
  return m;
}

test('--threads above 4 x cores is a usage error naming the limit', () => {
  const max = 4 * availableParallelism();
  const r = runCli(['next', 'Hi', '--model', 'random:32x1x2', '--threads', '100000']);
  assert.equal(r.stderr, `gpt2-lens: --threads 100000 is more than this machine can use: at most ${max} (4 per core, ${availableParallelism()} cores)\n`);
  assert.equal(r.code, 2);
});

test('--model random: above the parameter limit fails at once, naming the count', () => {
  const r = runCli(['next', 'Hi', '--model', 'random:8x100000000x1', '--reference']);
  assert.match(r.stderr, /^gpt2-lens: bad random model "random:8x100000000x1": 87,200,410,264 parameters \(348,801,641,056 bytes as float32\), above the limit of 2,000,000,000/);
  assert.equal(r.code, 1);
});

test("the tokenize table of 150,000 tokens (more than a call's arguments)", () => {
  const text = ' a'.repeat(150_000);
  const spans: TokenSpan[] = Array.from({ length: 150_000 }, (_, i) => ({ id: 257, text: ' a', bytes: [32, 97], start: 2 * i, end: 2 * i + 2 }));
  const table = formatTable(text, spans);
  const lines = table.split('\n');
  assert.equal(lines.length, 150_000 + 4);
  assert.equal(lines[0], `${JSON.stringify(`${' a'.repeat(30)}…`)} → 150000 tokens`);
  assert.equal(lines[150_002], '149999     257  ·a     299998-300000  20 61');
});

test('a reader that stops early: vocab and generate exit 0 without a word', async () => {
  const vocab = await runWithClosedStdout(['vocab', 'e', '--limit', '0']);
  assert.equal(vocab.stderr, '');
  assert.equal(vocab.code, 0);
  const gen = await runWithClosedStdout(['generate', 'Hello', '--model', FIXTURE_DIR, '--reference', '--max-new-tokens', '3', '--pad-token-id', '50256']);
  assert.equal(gen.stderr, '');
  assert.equal(gen.code, 0);
});

test('`cache` without a subcommand prints its help and exits 2; `help cache` exits 0', () => {
  const r = runCli(['cache']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^Usage: gpt2-lens cache \[options\] \[command\]/);
  const h = runCli(['help', 'cache']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^Usage: gpt2-lens cache/);
});

test('a prompt longer than n_positions: the context-length error alone, no max_length warning', () => {
  const r = runCli(['generate', ' a'.repeat(1100), '--model', FIXTURE_DIR, '--reference']);
  assert.equal(
    r.stderr,
    "gpt2-lens: The prompt (1100 tokens) plus the new tokens (1) make 1101 positions, more than the model's n_positions (1024). Shorten the prompt or lower max_new_tokens.\n",
  );
  assert.equal(r.code, 2);
});

test('non-finite logits: the core names where they start; generate() throws NonFiniteLogitsError', async () => {
  assert.equal(findNonFiniteLogit(Float32Array.of(1, -Infinity, 2), 3), -1, 'one -Infinity rules a token out');
  assert.equal(findNonFiniteLogit(Float32Array.of(1, 2, 3, -Infinity, -Infinity, -Infinity), 3), 3);
  assert.equal(findNonFiniteLogit(Float32Array.of(1, 2, Infinity), 3), 2);
  const broken = await brokenModel();
  await assert.rejects(generate(broken, { input_ids: [464, 4583], max_new_tokens: 3, on_warning: () => {} }), (err: unknown) => {
    assert.ok(err instanceof NonFiniteLogitsError);
    assert.equal(err.where, 'h.0');
    assert.equal(
      err.message,
      'the model produced non-finite logits (NaN for token 0 in row 0): the first non-finite values appear in the output of block h.0. ' +
        'The weights are broken (a NaN in the checkpoint, or an overflow), so no token can be chosen.',
    );
    return true;
  });
  // the last block: h.1 (after ln_f); a row of wte no prompt token uses: the LM head
  const last = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  last.weights.h[1]!.mlp.c_proj.bias[0] = Infinity;
  await assert.rejects(generate(last, { input_ids: [464], max_new_tokens: 2, num_beams: 2, on_warning: () => {} }), { name: 'NonFiniteLogitsError', where: 'h.1' });
  const head = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  head.weights.wte[7 * head.config.n_embd] = Number.NaN; // token 7's row: used by the LM head only
  const out = await head.forward({ input_ids: [[464]], num_logits_to_keep: 1 });
  await assert.rejects(assertFiniteLogits(head, { input_ids: [[464]] }, out.logits.data), {
    where: 'lm_head',
    message: /^the model produced non-finite logits \(NaN for token 7 in row 0\): every hidden state is finite, so the LM head \(wte, tied\) holds NaN or Infinity\./,
  });
});

test('non-finite logits: next and generate exit 1 saying so; the server answers 500 saying so', async () => {
  const broken = await brokenModel();
  const dir = tempDir();
  for (const f of ['config.json', 'generation_config.json']) copyFileSync(join(FIXTURE_DIR, f), join(dir, f));
  writeFileSync(join(dir, 'model.safetensors'), writeSafetensors(weightsToTensors(broken.config, broken.weights)));
  const expected = /^gpt2-lens: the model produced non-finite logits \(NaN for token 0 in row 0\): the first non-finite values appear in the output of block h\.0\./m;
  for (const args of [['next', 'Hello'], ['generate', 'Hello', '--max-new-tokens', '3', '--pad-token-id', '50256']]) {
    const r = runCli([...args, '--model', dir, '--reference']);
    assert.match(r.stderr, expected, args[0]);
    assert.equal(r.stdout, args[0] === 'next' ? '' : 'Hello', args[0]); // generate streams the prompt first
    assert.equal(r.code, 1, args[0]);
  }

  const lines: string[] = [];
  const server = createServer({ model: broken, tokenizer: loadBundledTokenizer(), logError: (l) => lines.push(l) });
  const url = (await server.listen(0)).url;
  try {
    for (const path of ['/api/next', '/api/generate']) {
      const res = await fetch(new URL(path, url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"Hello"}' });
      assert.equal(res.status, 500, path);
      const body = (await res.json()) as { error: { message: string; param: null } };
      assert.match(body.error.message, /^the model produced non-finite logits \(NaN for token 0 in row 0\): the first non-finite values appear in the output of block h\.0\./, path);
    }
    assert.equal(lines.length, 2);
  } finally {
    await server.close();
  }
});

test("non-finite logits: the static site's worker answers as the server does (500, the message as it is)", async () => {
  const session = new ExplorerSession({ model: await brokenModel(), tokenizer: loadBundledTokenizer() });
  const replies: FromWorker[] = [];
  const host = createExplorerHost(session, (m) => replies.push(m));
  host({ type: 'request', id: 1, method: 'next', body: { text: 'Hello' } });
  host({ type: 'request', id: 2, method: 'generate', body: { text: 'Hello', max_new_tokens: 2, pad_token_id: 50256 } });
  for (let turns = 0; replies.length < 2 && turns < 200; turns++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(replies.length, 2);
  for (const r of replies) {
    assert.ok(r.type === 'error', JSON.stringify(r));
    assert.equal(r.status, 500);
    assert.equal(r.body.error.param, null);
    assert.match(r.body.error.message, /^the model produced non-finite logits \(NaN for token 0 in row 0\): the first non-finite values appear in the output of block h\.0\./);
  }
});
