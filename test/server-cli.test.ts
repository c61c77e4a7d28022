// `gpt2-lens serve`, spawned as a person runs it, on the fixture model: it prints its address, answers the API from
// the WebAssembly engine (or the reference path), stops cleanly on SIGTERM, and refuses bad arguments in one line.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { basename } from 'node:path';
import { test } from 'node:test';
import type { ModelInfo, NextResponse } from '../src/server/types.js';
import { FIXTURE_DIR, REPO_ROOT, assertClose, readGolden, toNumber } from './helpers/fixtures.js';
import { CLI_MAIN, runCli } from './helpers/cli.js';

/** Starts `gpt2-lens serve ARGS --port 0`, waits for its "open URL" line, and returns the URL and the process. */
async function serve(args: string[]): Promise<{ url: string; stderr: () => string; stop: () => Promise<number | null> }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--model', FIXTURE_DIR, '--port', '0', ...args], { cwd: REPO_ROOT });
  let stderr = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s: ${stderr}`)), 60_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const m = /open (http:\/\/\S+)/.exec(stderr);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    child.once('exit', () => reject(new Error(`serve exited: ${stderr}`)));
  });
  return {
    url,
    stderr: () => stderr,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

const golden = readGolden<{ cases: { input_ids: number[]; logits_summary: { top5_ids: number[][]; top5_logits: number[][]; logsumexp: number[] } }[] }>('golden-forward.json').cases[0]!;

for (const [name, args, backend] of [
  ['the WebAssembly engine (1 thread)', ['--threads', '1'], /computing with wasm simd \(fp32, 1 thread\)/],
  ['the reference path', ['--reference'], /computing with reference/],
] as const) {
  test(`serve on ${name}: its address, the model, HF's next-token table, a request log, a clean stop`, { timeout: 120_000 }, async () => {
    const s = await serve([...args]);
    try {
      assert.match(s.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
      assert.match(s.stderr(), backend);
      const info = (await (await fetch(new URL('/api/model', s.url))).json()) as ModelInfo;
      assert.equal(info.model, basename(FIXTURE_DIR), 'a folder by its base name, never a path of this machine');
      assert.equal(info.n_params, 3_382_080);
      const res = await fetch(new URL('/api/next', s.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ input_ids: golden.input_ids, top: 5 }) });
      const next = (await res.json()) as NextResponse;
      assert.deepEqual(next.top.map((t) => t.id), golden.logits_summary.top5_ids[4]);
      assertClose('logits', next.top.map((t) => t.logit), golden.logits_summary.top5_logits[4]!, { atol: 1e-4 });
      const lse = toNumber(golden.logits_summary.logsumexp[4]!);
      assertClose('probs', next.top.map((t) => t.prob), golden.logits_summary.top5_logits[4]!.map((l) => Math.exp(l - lse)), { atol: 1e-5 });
      await new Promise((r) => setTimeout(r, 50));
      assert.match(s.stderr(), /POST \/api\/next 200 \d+ ms/);
    } finally {
      assert.equal(await s.stop(), 0);
    }
  });
}

/** Runs the CLI and parses its --json output. */
function cli(args: string[]): unknown {
  // --reference: the same path as the server below, so the numbers are identical to the last bit
  const r = runCli([...args, ...(args[0] === 'tokenize' ? [] : ['--reference'])]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

test("the API answers the CLI's own JSON: tokenize, next, generate (greedy and beam search)", { timeout: 180_000 }, async () => {
  const s = await serve(['--reference', '-q']);
  const post = async (path: string, body: unknown): Promise<unknown> => (await fetch(new URL(path, s.url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })).json();
  try {
    const prompt = 'Paul Erdős proved that';
    // The CLI runs first: runCli blocks this process, and an HTTP keep-alive socket left idle across it may be
    // closed by the server just as fetch reuses it.
    const expected = {
      tokenize: cli(['tokenize', '--json', prompt]),
      next: cli(['next', '--json', '--top', '7', '--model', FIXTURE_DIR, prompt]),
      greedy: cli(['generate', '--json', '--max-new-tokens', '6', '--model', FIXTURE_DIR, prompt]),
      beam: cli(['generate', '--json', '--max-new-tokens', '5', '--num-beams', '3', '--num-return-sequences', '2', '--model', FIXTURE_DIR, prompt]),
    };
    assert.deepEqual(await post('/api/tokenize', { text: prompt }), expected.tokenize);
    const next = (await post('/api/next', { text: prompt, top: 7 })) as NextResponse;
    assert.deepEqual({ input_ids: next.input_ids, top: next.top }, expected.next);
    assert.deepEqual(await post('/api/generate', { text: prompt, max_new_tokens: 6 }), expected.greedy);
    assert.deepEqual(await post('/api/generate', { text: prompt, max_new_tokens: 5, num_beams: 3, num_return_sequences: 2 }), expected.beam);
  } finally {
    assert.equal(await s.stop(), 0);
  }
});

test('bad arguments: one line, exit 2', () => {
  for (const [args, message] of [
    [['--port', 'http'], 'gpt2-lens: --port must be a whole number from 0 to 65535, got "http"\n'],
    [['--port', '70000'], 'gpt2-lens: --port must be a whole number from 0 to 65535, got "70000"\n'],
    [['--threads', '0'], 'gpt2-lens: --threads must be a whole number >= 1, got "0"\n'],
    [['--dtype', 'fp8'], 'gpt2-lens: --dtype must be fp32, fp16 or int8, got "fp8"\n'],
  ] as const) {
    const r = runCli(['serve', '--model', FIXTURE_DIR, ...args]);
    assert.equal(r.stderr, message);
    assert.equal(r.code, 2);
  }
});
