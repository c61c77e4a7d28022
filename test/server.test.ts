// The explorer's JSON API on the fixture model: every endpoint against HF's goldens, every validation error with its
// exact message, Server-Sent Events, the queue (one job at a time, cancellation) and the static files.
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import type { ForwardInputs, CausalLMOutput } from '../src/model/types.js';
import { generate } from '../src/generation/index.js';
import { AutoTokenizer } from '../src/node/tokenizer.js';
import type { GPT2Tokenizer } from '../src/tokenizer/index.js';
import { createServer, type ExplorerServer } from '../src/server/index.js';
import type { BeamEvent, ForwardResponse, GenerateResponse, ModelInfo, NextResponse, TokenEvent, TokenizeResponse } from '../src/server/types.js';
import { FIXTURE_DIR, assertClose, expectCases, flat, readBinRef, readGolden, toNumber } from './helpers/fixtures.js';

/** The real model, counting its forward passes (each one synchronous work, as the reference backend's are). */
class CountingModel extends GPT2LMHeadModel {
  calls = 0;
  override async forward(inputs: ForwardInputs): Promise<CausalLMOutput> {
    this.calls++;
    return super.forward(inputs);
  }
}

/** ... and how many run at the same moment (never more than one), yielding first as a threaded backend would. */
class WatchedModel extends CountingModel {
  active = 0;
  maxActive = 0;
  override async forward(inputs: ForwardInputs): Promise<CausalLMOutput> {
    this.active++;
    this.maxActive = Math.max(this.maxActive, this.active);
    try {
      // a second job could start here if the queue let it
      await new Promise((r) => setImmediate(r));
      return await super.forward(inputs);
    } finally {
      this.active--;
    }
  }
}

const LIMITS = {
  max_body_bytes: 4096,
  max_prompt_tokens: 64,
  max_forward_tokens: 16,
  max_new_tokens: 40,
  num_beams: 4,
  num_return_sequences: 4,
  max_top: 50,
  max_queue: 64,
  max_patch_tokens: 16,
};

let model: WatchedModel;
let tokenizer: GPT2Tokenizer;
let server: ExplorerServer;
let base: string;

before(async () => {
  model = await WatchedModel.from_pretrained(FIXTURE_DIR);
  tokenizer = await AutoTokenizer.from_pretrained(FIXTURE_DIR);
  server = createServer({ model, tokenizer, limits: LIMITS, modelName: 'gpt2-tiny' });
  base = (await server.listen(0)).url;
});
after(() => server.close());

async function post(path: string, body: unknown, init: RequestInit = {}): Promise<{ status: number; json: unknown; headers: Headers }> {
  const res = await fetch(new URL(path, base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), ...init });
  return { status: res.status, json: await res.json(), headers: res.headers };
}

async function ok<T>(path: string, body: unknown): Promise<T> {
  const r = await post(path, body);
  assert.equal(r.status, 200, `${path} answered ${r.status}: ${JSON.stringify(r.json)}`);
  return r.json as T;
}

/** Polls `cond` every 5 ms; fails after `ms` (never hangs the suite). */
async function until(cond: () => boolean, what: string, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

interface SseEvent {
  event: string;
  data: unknown;
}

/** Parses a text/event-stream body: blocks separated by a blank line, each `event: NAME` + `data: JSON`. */
function parseSse(text: string): SseEvent[] {
  return text
    .split('\n\n')
    .filter((b) => b.trim() !== '')
    .map((block) => {
      let event = 'message';
      let data = '';
      for (const line of block.split('\n')) {
        if (line.startsWith('event: ')) event = line.slice(7);
        else if (line.startsWith('data: ')) data += line.slice(6);
        else assert.fail(`unexpected SSE line ${JSON.stringify(line)}`);
      }
      return { event, data: JSON.parse(data) as unknown };
    });
}

async function stream(body: Record<string, unknown>): Promise<SseEvent[]> {
  const res = await fetch(new URL('/api/generate', base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ ...body, stream: true }) });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('content-type'), 'text/event-stream; charset=utf-8');
  return parseSse(await res.text());
}

const NOTEBOOK = 'The theory of relativity is';
const NOTEBOOK_IDS = [464, 4583, 286, 44449, 318];

interface ForwardCase {
  text: string;
  input_ids: number[];
  hidden_states: unknown[];
  attentions: unknown[];
  logits: { file: string; offset: number; shape: number[] };
  logits_summary: { argmax: number[]; logsumexp: number[]; top5_ids: number[][]; top5_logits: number[][] };
}
interface ProcessorChain {
  generate_kwargs: Record<string, number | boolean>;
  results: { final: { n_finite: number; ids: number[]; probs: number[] } }[];
}
interface GenerateCase {
  name: string;
  kwargs: Record<string, unknown>;
  input_ids: number[][];
  sequences: number[][];
  sequences_scores?: (number | string)[];
}

describe('GET /api/model', () => {
  test('config, parameter count, random flag, limits, and the isolation headers', async () => {
    const res = await fetch(new URL('/api/model', base));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
    const info = (await res.json()) as ModelInfo;
    assert.equal(info.model, 'gpt2-tiny');
    assert.equal(info.random, false);
    assert.deepEqual(info.config, { vocab_size: 50257, n_positions: 1024, n_embd: 64, n_layer: 2, n_head: 4, n_inner: null, bos_token_id: 50256, eos_token_id: 50256 });
    // wte 50257·64 + wpe 1024·64 + 2 blocks · 49,984 + ln_f 128
    assert.equal(info.n_params, 3_382_080);
    assert.equal(info.generation_config.eos_token_id, 50256);
    assert.deepEqual(info.limits, LIMITS);
  });

  test('a random: model says so', async () => {
    const random = createServer({ model: await GPT2LMHeadModel.from_pretrained('random:32x1x2@7'), tokenizer });
    const { url } = await random.listen(0);
    try {
      const info = (await (await fetch(new URL('/api/model', url))).json()) as ModelInfo;
      assert.equal(info.random, true);
      assert.equal(info.model, 'random:32x1x2@7');
      assert.equal(info.config.n_embd, 32);
    } finally {
      await random.close();
    }
  });
});

describe('POST /api/tokenize', () => {
  test("the CLI's tokenize JSON: ids, and each token's text, bytes and UTF-16 span", async () => {
    const r = await ok<TokenizeResponse>('/api/tokenize', { text: NOTEBOOK });
    assert.deepEqual(r.ids, NOTEBOOK_IDS);
    assert.deepEqual(r.tokens[1], { id: 4583, text: ' theory', bytes: [32, 116, 104, 101, 111, 114, 121], start: 3, end: 10 });
    assert.deepEqual(
      r.tokens.map((t) => NOTEBOOK.slice(t.start, t.end)),
      ['The', ' theory', ' of', ' relativity', ' is'],
    );
  });

  test('ids equal the golden tokenizer, and the bytes rebuild the text, partial characters included', async () => {
    const golden = readGolden<{ cases: { text: string; ids: number[] }[] }>('golden-tokenizer.json');
    const cases = expectCases(golden.cases, 'golden-tokenizer.json cases').filter((c) => c.ids.length > 0 && c.ids.length <= LIMITS.max_prompt_tokens);
    assert.ok(cases.some((c) => /\p{Extended_Pictographic}/u.test(c.text)), 'the sample holds an emoji');
    for (const c of cases) {
      const r = await ok<TokenizeResponse>('/api/tokenize', { text: c.text });
      assert.deepEqual(r.ids, c.ids, JSON.stringify(c.text));
      const bytes = r.tokens.flatMap((t) => t.bytes);
      assert.equal(Buffer.from(bytes).toString('utf8'), c.text, JSON.stringify(c.text));
    }
    // 👋 (f0 9f 91 8b) splits into two tokens, each holding part of it; both span the whole character
    const wave = await ok<TokenizeResponse>('/api/tokenize', { text: 'Hello 👋 world' });
    assert.deepEqual(wave.tokens.slice(1, 3), [
      { id: 50169, text: ' \uFFFD', bytes: [32, 240, 159, 145], start: 5, end: 8 },
      { id: 233, text: '\uFFFD', bytes: [139], start: 6, end: 8 },
    ]);
  });
});

describe('POST /api/next', () => {
  const forwardCases = expectCases(readGolden<{ cases: ForwardCase[] }>('golden-forward.json').cases, 'golden-forward.json cases');

  test("the raw table is HF's softmax of the last position's logits", async () => {
    for (const c of forwardCases) {
      const s = c.logits_summary;
      const last = c.input_ids.length - 1;
      const r = await ok<NextResponse>('/api/next', { input_ids: c.input_ids, top: 5 });
      assert.deepEqual(r.input_ids, c.input_ids);
      assert.deepEqual(r.top.map((t) => t.id), s.top5_ids[last], c.text);
      assertClose(`${c.text} logits`, r.top.map((t) => t.logit), s.top5_logits[last]!, { atol: 1e-4 });
      const lse = toNumber(s.logsumexp[last]!);
      assertClose(`${c.text} probs`, r.top.map((t) => t.prob), s.top5_logits[last]!.map((l) => Math.exp(l - lse)), { atol: 1e-5 });
      assert.deepEqual(r.top.map((t) => t.token), s.top5_ids[last]!.map((id) => tokenizer.decode([id])));
      assert.deepEqual(r.knobs, []);
      assert.equal(r.kept, 50257);
    }
  });

  test('text and input_ids give the same table', async () => {
    const a = await ok<NextResponse>('/api/next', { text: NOTEBOOK });
    const b = await ok<NextResponse>('/api/next', { input_ids: NOTEBOOK_IDS });
    assert.deepEqual(a, b);
    assert.equal(a.top.length, 10);
  });

  test("the knobs give HF's processed distribution (golden-processors chains) and say which knob removed what", async () => {
    const chains = readGolden<{ chains: ProcessorChain[] }>('golden-processors.json').chains;
    const vector = forwardCases[0]!; // the chains' first vector is the notebook prompt's last position
    // notebook: do_sample, temperature 2, repetition_penalty 10 (top_k 50 by default)
    const notebook = chains.find((c) => c.generate_kwargs.repetition_penalty === 10 && c.generate_kwargs.temperature === 2)!;
    const r = await ok<NextResponse>('/api/next', { input_ids: vector.input_ids, temperature: 2, repetition_penalty: 10, top_k: 50, top: 50 });
    const want = notebook.results[0]!.final;
    assert.equal(r.kept, want.n_finite);
    assert.deepEqual(r.processed.map((p) => p.id), want.ids);
    assertClose('notebook chain probs', r.processed.map((p) => p.prob), want.probs, { atol: 1e-5 });
    assert.deepEqual(r.knobs.map((k) => k.processor), ['RepetitionPenaltyLogitsProcessor(penalty=10.0)', 'TemperatureLogitsWarper(temperature=2.0)', 'TopKLogitsWarper(top_k=50)']);
    assert.deepEqual(r.removed_count, { repetition_penalty: 0, temperature: 0, top_k: 50257 - 50 });

    // temperature 0.7, top_k 50, top_p 0.9: top-k removes most, top-p some more
    const nucleus = chains.find((c) => c.generate_kwargs.top_p === 0.9)!;
    const n = await ok<NextResponse>('/api/next', { input_ids: vector.input_ids, temperature: 0.7, top_k: 50, top_p: 0.9, top: 50 });
    const want2 = nucleus.results[0]!.final;
    assert.equal(n.kept, want2.n_finite);
    assert.deepEqual(n.processed.map((p) => p.id), want2.ids);
    assertClose('nucleus chain probs', n.processed.map((p) => p.prob), want2.probs, { atol: 1e-5 });
    assert.deepEqual(n.removed_count, { temperature: 0, top_k: 50257 - 50, top_p: 50 - want2.n_finite });
    // every raw top-50 token that did not survive was removed by top-p (top-k keeps exactly these 50)
    const survivors = new Set(want2.ids);
    for (const t of n.top) assert.equal(n.removed_by[String(t.id)], survivors.has(t.id) ? undefined : 'top_p', `token ${t.id}`);
  });

  test('reported: every number of every displayed id and of the asked ids, after the knobs as HF computes them', async () => {
    const chains = readGolden<{ chains: ProcessorChain[] }>('golden-processors.json').chains;
    const vector = forwardCases[0]!;
    const notebook = chains.find((c) => c.generate_kwargs.repetition_penalty === 10 && c.generate_kwargs.temperature === 2)!;
    const want = notebook.results[0]!.final;
    // a token far down the processed list: with top 3 it is in neither `top` nor `processed`, so only `ids` reports it
    const far = want.ids[30]!;
    const r = await ok<NextResponse>('/api/next', { input_ids: vector.input_ids, temperature: 2, repetition_penalty: 10, top_k: 50, top: 3, ids: [far, far] });
    const ids = [...new Set([...r.top.map((t) => t.id), ...r.processed.map((p) => p.id), far])];
    assert.deepEqual(r.reported.map((x) => x.id), ids);
    const rep = r.reported.at(-1)!;
    assertClose('processed prob of an asked id', [rep.prob], [want.probs[30]!], { atol: 1e-6 });
    assertClose('its running sum', [rep.cumulative], [want.probs.slice(0, 31).reduce((a, b) => a + b, 0)], { atol: 1e-5 });
    // every reported row: raw numbers as in `top`, after-knob numbers as HF's chain gives them
    let checked = 0;
    for (const x of r.reported) {
      const t = r.top.find((c) => c.id === x.id);
      if (t) assert.deepEqual([x.logit, x.raw_prob], [t.logit, t.prob]);
      const k = want.ids.indexOf(x.id);
      if (k >= 0) assertClose(`prob of ${x.id}`, [x.prob], [want.probs[k]!], { atol: 1e-6 });
      else assert.deepEqual([x.prob, x.score, r.removed_by[String(x.id)]], [0, null, 'top_k'], `${x.id} was removed`);
      checked++;
    }
    assert.equal(checked, ids.length);
    const json = await fetch(new URL('/api/next', base), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'a', ids: [50257] }) });
    assert.deepEqual(await json.json(), { error: { message: '"ids[0]" must be <= 50256, got 50257', param: 'ids' } });
  });

  test('a knob set to its neutral value is not applied', async () => {
    const r = await ok<NextResponse>('/api/next', { text: NOTEBOOK, temperature: 1, top_k: 0, top_p: 1, repetition_penalty: 1 });
    assert.deepEqual(r.knobs, []);
    assert.deepEqual(r.processed.map((p) => p.id), r.top.map((t) => t.id));
  });
});

describe('POST /api/forward', () => {
  const forwardCases = expectCases(readGolden<{ cases: ForwardCase[] }>('golden-forward.json').cases, 'golden-forward.json cases');

  test("attentions and hidden states equal HF's, per layer and head", async () => {
    for (const c of forwardCases.filter((x) => x.input_ids.length <= LIMITS.max_forward_tokens)) {
      const r = await ok<ForwardResponse>('/api/forward', { input_ids: c.input_ids, hidden_states: true, lens: false });
      const T = c.input_ids.length;
      assert.equal(r.attentions!.length, 2);
      assert.equal(r.attentions![0]!.length, 4);
      assertClose(`${c.text} attentions`, flat(r.attentions), flat(c.attentions), { atol: 1e-5, rtol: 1e-4, dims: [2, 4, T, T] });
      assertClose(`${c.text} hidden_states`, flat(r.hidden_states), flat(c.hidden_states), { atol: 1e-5, rtol: 1e-4, dims: [3, T, 64] });
      assert.equal(r.lens, undefined);
      assert.deepEqual(r.tokens, c.input_ids.map((id) => tokenizer.decode([id])));
    }
  });

  test("the logit lens: one row per layer, and its last row is the model's own prediction", async () => {
    const c = forwardCases[0]!;
    const logits = readBinRef(c.logits); // every position of the notebook prompt
    const r = await ok<ForwardResponse>('/api/forward', { text: c.text, attentions: false, lens_top: 5 });
    assert.equal(r.attentions, undefined);
    assert.equal(r.lens!.length, 3); // embeddings, block 1, block 2
    const final = r.lens![2]!;
    c.input_ids.forEach((_, t) => {
      assert.deepEqual(final[t]!.map((e) => e.id), c.logits_summary.top5_ids[t], `position ${t}`);
      const lse = toNumber(c.logits_summary.logsumexp[t]!);
      assertClose(`lens probs at ${t}`, final[t]!.map((e) => e.prob), final[t]!.map((e) => Math.exp(logits[t * 50257 + e.id]! - lse)), { atol: 1e-5 });
    });
    // the embeddings row: ln_f(wte + wpe) read through wte mostly predicts the input token itself
    assert.ok(r.lens![0]!.every((cands) => cands.length === 5));
  });
});

describe('POST /api/generate', () => {
  const cases = readGolden<{ cases: GenerateCase[] }>('golden-generate.json').cases;
  const golden = (name: string): GenerateCase => cases.find((c) => c.name === name)!;

  test("greedy, without stream: the CLI's generate JSON with HF's tokens", async () => {
    const g = golden('greedy_20');
    const r = await ok<GenerateResponse>('/api/generate', { input_ids: g.input_ids[0], ...g.kwargs });
    assert.equal(r.sequences.length, 1);
    assert.deepEqual(r.sequences[0]!.ids, g.sequences[0]);
    assert.equal(r.sequences[0]!.text, tokenizer.decode(g.sequences[0]!));
    assert.ok(r.sequences[0]!.score < 0);
  });

  test("beam search, without stream: HF's hypotheses and sequences_scores", async () => {
    for (const name of ['beam4_return2', 'beam4_eos_lp2', 'beam4_feos_es_true']) {
      const g = golden(name);
      const r = await ok<GenerateResponse>('/api/generate', { input_ids: g.input_ids[0], ...g.kwargs });
      assert.deepEqual(r.sequences.map((s) => s.ids), g.sequences, name);
      assertClose(`${name} scores`, r.sequences.map((s) => s.score), g.sequences_scores!.map(toNumber), { atol: 1e-4 });
    }
  });

  test('greedy, streamed: one token event per new token, then done with the same JSON', async () => {
    const g = golden('greedy_rep1.3');
    const events = await stream({ input_ids: g.input_ids[0], ...g.kwargs, top: 3 });
    const tokens = events.filter((e) => e.event === 'token').map((e) => e.data as TokenEvent);
    const fresh = g.sequences[0]!.slice(g.input_ids[0]!.length);
    assert.deepEqual(tokens.map((t) => t.id), fresh);
    assert.deepEqual(tokens.map((t) => t.step), fresh.map((_, i) => i));
    for (const t of tokens) {
      assert.equal(t.row, 0);
      assert.equal(t.token, tokenizer.decode([t.id]));
      assert.equal(t.top.length, 3);
      assert.equal(t.top[0]!.id, t.id, 'greedy takes the top of the processed distribution');
      assert.equal(t.top[0]!.prob, t.prob);
    }
    assert.deepEqual(events.map((e) => e.event), [...tokens.map(() => 'token'), 'done']);
    const done = events.at(-1)!.data as GenerateResponse;
    assert.deepEqual(done, await ok<GenerateResponse>('/api/generate', { input_ids: g.input_ids[0], ...g.kwargs }));
    // the score is the sum of the chosen tokens' log-probabilities, the probabilities the events report
    assertClose('score', [done.sequences[0]!.score], [tokens.reduce((a, t) => a + Math.log(t.prob), 0)], { atol: 1e-6 });
  });

  test("sampling, streamed: seeded, reproducible, and each token's probability is generate()'s own (its trace)", async () => {
    const body = { text: NOTEBOOK, do_sample: true, temperature: 1.3, top_k: 40, top_p: 0.95, repetition_penalty: 1.2, seed: 1234, max_new_tokens: 12, num_return_sequences: 2 };
    const events = await stream(body);
    const again = await stream(body);
    assert.deepEqual(again, events);
    const done = events.at(-1)!.data as GenerateResponse;
    assert.deepEqual(done, await ok<GenerateResponse>('/api/generate', body));
    const traced = await generate(model, { input_ids: NOTEBOOK_IDS, do_sample: true, temperature: 1.3, top_k: 40, top_p: 0.95, repetition_penalty: 1.2, seed: 1234, max_new_tokens: 12, num_return_sequences: 2, trace: 40, on_warning: () => {} });
    const tokens = events.filter((e) => e.event === 'token').map((e) => e.data as TokenEvent);
    assert.equal(tokens.length, 24);
    for (const t of tokens) {
      assert.equal(t.id, traced.sequences[t.row]![5 + t.step]);
      const row = traced.trace!.steps[t.step]!.rows[t.row]!;
      const cand = row.candidates.find((c) => c.id === t.id)!;
      assertClose(`step ${t.step} row ${t.row}`, [t.prob, t.raw_prob], [cand.processed_prob, cand.prob], { atol: 1e-9 });
    }
  });

  test('beam search, streamed: a beam event per step whose tree ends in the returned hypotheses', async () => {
    const g = golden('beam4_return4_rep1.3');
    const events = await stream({ input_ids: g.input_ids[0], ...g.kwargs });
    const beams = events.filter((e) => e.event === 'beam').map((e) => e.data as BeamEvent);
    const done = events.at(-1)!;
    assert.equal(done.event, 'done');
    assert.deepEqual((done.data as GenerateResponse).sequences.map((s) => s.ids), g.sequences);
    assert.deepEqual(beams.map((b) => b.step), beams.map((_, i) => i));
    const T = g.input_ids[0]!.length;
    for (const b of beams) {
      assert.equal(b.beams.length, 4);
      for (const beam of b.beams) {
        assert.equal(beam.ids.length, b.step + 1);
        assert.equal(beam.ids.at(-1), beam.id);
        if (b.step > 0) assert.deepEqual(beam.ids.slice(0, -1), beams[b.step - 1]!.beams[beam.parent]!.ids, 'a beam extends its parent');
      }
      // pruned candidates scored below the worst kept beam... or were eos; none of them is a kept beam
      for (const p of b.pruned) assert.ok(!b.beams.some((k) => k.parent === p.parent && k.id === p.id));
    }
    assert.ok(beams.some((b) => b.pruned.length > 0));
    const finished = beams.at(-1)!.finished;
    assert.equal(finished.length, 4);
    assertClose('finished scores', finished.map((f) => f.score), g.sequences_scores!.map(toNumber), { atol: 1e-4 });
    for (const f of finished) {
      const seq = g.sequences.find((s) => s.slice(T, T + f.ids.length).join() === f.ids.join())!;
      assert.ok(seq, `hypothesis ${f.ids} is a returned sequence`);
      if (f.ended === 'length') assert.deepEqual(beams[f.step]!.beams[f.parent]!.ids, f.ids);
      else if (f.step > 0) assert.deepEqual(beams[f.step - 1]!.beams[f.parent]!.ids, f.ids);
    }
  });

  test('beam search, streamed: each beam event arrives as its step is done, between the forward passes', async () => {
    // a model that takes 10 ms a pass, so that the client reads each event before the next pass is over
    class SlowModel extends CountingModel {
      override async forward(inputs: ForwardInputs): Promise<CausalLMOutput> {
        await new Promise((r) => setTimeout(r, 10));
        return super.forward(inputs);
      }
    }
    const slow = await SlowModel.from_pretrained(FIXTURE_DIR);
    const srv = createServer({ model: slow, tokenizer, limits: LIMITS });
    try {
      const url = new URL('/api/generate', (await srv.listen(0)).url);
      const body = { input_ids: NOTEBOOK_IDS, num_beams: 3, num_return_sequences: 3, max_new_tokens: 6, stream: true };
      const res = await fetch(url, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
      const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      const received: { event: string; data: unknown; calls: number }[] = [];
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const [e] = parseSse(buffer.slice(0, cut + 2));
          buffer = buffer.slice(cut + 2);
          received.push({ ...e!, calls: slow.calls });
        }
      }
      assert.deepEqual(received.map((r) => r.event), ['beam', 'beam', 'beam', 'beam', 'beam', 'beam', 'done']);
      assert.equal(slow.calls, 6);
      // step s is done after pass s + 1; its event comes while pass s + 2 runs (the last step's once generate returns)
      received.slice(0, 5).forEach((r, s) => {
        assert.equal((r.data as BeamEvent).step, s);
        assert.ok(r.calls === s + 1 || r.calls === s + 2, `beam event ${s} arrived after ${r.calls} forward passes`);
      });
      assert.equal(received[5]!.calls, 6);
      // timing changes nothing: the same events as from the other server
      assert.deepEqual(received.map(({ event, data }) => ({ event, data })), await stream(body));
    } finally {
      await srv.close();
    }
  });

  test('defaults to 20 new tokens', async () => {
    const r = await ok<GenerateResponse>('/api/generate', { text: NOTEBOOK });
    assert.equal(r.sequences[0]!.ids.length, 5 + 20);
  });
});

describe('validation: 400 with the message and the field', () => {
  const cases: [path: string, body: unknown, message: string, param: string | null][] = [
    ['/api/next', { text: 'a', foo: 1 }, 'unknown field "foo"; this endpoint takes: text, input_ids, top, ids, temperature, top_k, top_p, min_p, repetition_penalty, ablate, ablation', 'foo'],
    ['/api/forward', { text: 'a', attention: true }, 'unknown field "attention"; this endpoint takes: text, input_ids, attentions, hidden_states, lens, lens_top, capture', 'attention'],
    ['/api/tokenize', { text: 'a', ids: [1] }, 'unknown field "ids"; this endpoint takes: text', 'ids'],
    ['/api/tokenize', {}, '"text" is missing', 'text'],
    ['/api/tokenize', { text: 5 }, '"text" must be a string, got 5', 'text'],
    ['/api/next', { text: 'a', input_ids: [1] }, 'give either "text" or "input_ids", not both', 'input_ids'],
    ['/api/next', {}, 'the prompt is missing: give "text" or "input_ids"', 'text'],
    ['/api/next', { text: '' }, 'the prompt is empty: GPT-2 needs at least one token', 'text'],
    ['/api/next', { input_ids: [] }, 'the prompt is empty: GPT-2 needs at least one token', 'input_ids'],
    ['/api/next', { input_ids: [464, 50257] }, '"input_ids[1]" must be <= 50256, got 50257', 'input_ids'],
    ['/api/next', { input_ids: [-1] }, '"input_ids[0]" must be >= 0, got -1', 'input_ids'],
    ['/api/next', { input_ids: [1.5] }, '"input_ids[0]" must be an integer, got 1.5', 'input_ids'],
    ['/api/next', { input_ids: 'The' }, '"input_ids" must be a list of integers, got "The"', 'input_ids'],
    ['/api/next', { text: 'a', temperature: 0 }, '"temperature" must be > 0, got 0', 'temperature'],
    ['/api/next', { text: 'a', temperature: 'hot' }, '"temperature" must be a number, got "hot"', 'temperature'],
    ['/api/next', { text: 'a', top_k: -1 }, '"top_k" must be >= 0, got -1', 'top_k'],
    ['/api/next', { text: 'a', top_k: 2.5 }, '"top_k" must be an integer, got 2.5', 'top_k'],
    ['/api/next', { text: 'a', top_p: 1.5 }, '"top_p" must be <= 1, got 1.5', 'top_p'],
    ['/api/next', { text: 'a', top_p: 0 }, '"top_p" must be > 0, got 0', 'top_p'],
    ['/api/next', { text: 'a', repetition_penalty: 0 }, '"repetition_penalty" must be > 0, got 0', 'repetition_penalty'],
    ['/api/next', { text: 'a', top: 51 }, `"top" is 51, above this server's limit of 50`, 'top'],
    ['/api/next', { text: ' a'.repeat(65) }, "the prompt has 65 tokens, above this server's limit of 64 for this endpoint", 'text'],
    ['/api/tokenize', { text: ' a'.repeat(65) }, "the text has 65 tokens, above this server's limit of 64", 'text'],
    ['/api/forward', { input_ids: Array(17).fill(464) }, "the prompt has 17 tokens, above this server's limit of 16 for this endpoint", 'input_ids'],
    ['/api/forward', { text: 'a', lens: 'yes' }, '"lens" must be true or false, got "yes"', 'lens'],
    ['/api/forward', { text: 'a', lens_top: 21 }, `"lens_top" is 21, above this server's limit of 20`, 'lens_top'],
    ['/api/generate', { text: 'a', max_new_tokens: 41 }, `"max_new_tokens" is 41, above this server's limit of 40`, 'max_new_tokens'],
    ['/api/generate', { text: 'a', max_new_tokens: 0 }, '"max_new_tokens" must be >= 1, got 0', 'max_new_tokens'],
    ['/api/generate', { text: 'a', num_beams: 5 }, `"num_beams" is 5, above this server's limit of 4`, 'num_beams'],
    ['/api/generate', { text: 'a', num_beams: 4, num_return_sequences: 5 }, `"num_return_sequences" is 5, above this server's limit of 4`, 'num_return_sequences'],
    ['/api/generate', { text: 'a', num_beams: 2, num_return_sequences: 3 }, '`num_return_sequences` (3) has to be smaller or equal to `num_beams` (2).', 'num_return_sequences'],
    ['/api/generate', { text: 'a', num_return_sequences: 2 }, 'Greedy methods without beam search do not support `num_return_sequences` different than 1 (got 2).', 'num_return_sequences'],
    ['/api/generate', { text: 'a', early_stopping: 'sometimes' }, '"early_stopping" must be one of true, false, "never", got "sometimes"', 'early_stopping'],
    ['/api/generate', { text: 'a', stream: 'yes' }, '"stream" must be true or false, got "yes"', 'stream'],
    ['/api/generate', { text: 'a', eos_token_id: [] }, '"eos_token_id" is empty', 'eos_token_id'],
    ['/api/generate', { text: 'a', eos_token_id: [1, 'x'] }, '"eos_token_id[1]" must be an integer, got "x"', 'eos_token_id'],
    ['/api/generate', { text: 'a', seed: -3 }, '`seed` must be an integer from 0 to 4294967295 (the range transformers.set_seed accepts), but is -3', 'seed'],
    ['/api/generate', { text: 'a', seed: 2 ** 53 }, '`seed` must be an integer from 0 to 4294967295 (the range transformers.set_seed accepts), but is 9007199254740992', 'seed'],
    ['/api/generate', { text: 'a', max_length: 30 }, 'unknown field "max_length"; this endpoint takes: text, input_ids, stream, top, max_new_tokens, min_new_tokens, do_sample, num_beams, num_return_sequences, temperature, top_k, top_p, min_p, typical_p, repetition_penalty, no_repeat_ngram_size, length_penalty, early_stopping, eos_token_id, pad_token_id, seed, ablate, ablation', 'max_length'],
    ['/api/next', { text: 'a', ablate: '0.1' }, '"ablate" must be a list of strings, got "0.1"', 'ablate'],
    ['/api/next', { text: 'a', ablate: [[0, 1]] }, '"ablate[0]" must be a string, got [0,1]', 'ablate'],
    ['/api/next', { text: 'a', ablate: Array(9).fill('0.0') }, "\"ablate\" has 9 items, above this server's limit of 8", 'ablate'],
    ['/api/next', { text: 'a', ablate: ['0.0', '2.1'] }, 'head 2.1 is out of range: this model has layers 0..1 and heads 0..3', 'ablate'],
    ['/api/next', { text: 'a', ablate: ['9'] }, 'bad head "9": expected L.H (layer.head, e.g. 9.6), a comma-separated list of them', 'ablate'],
    ['/api/next', { text: 'a', ablate: ['0.0'.repeat(10)] }, 'bad head in "ablate[0]" (30 characters): expected L.H (layer.head, e.g. "9.6")', 'ablate'],
    ['/api/next', { text: 'a', ablation: 'zero' }, '"ablation" needs "ablate" (which heads, e.g. ["9.6", "9.9"])', 'ablation'],
    ['/api/generate', { text: 'a', ablate: ['0.0'], ablation: 'max' }, '"ablation" must be one of "zero", "mean", got "max"', 'ablation'],
    ['/api/attribute', { text: 'a', target: ' Mary', ablate: ['0.0'] }, 'unknown field "ablate"; this endpoint takes: text, input_ids, target', 'ablate'],
    ['/api/attribute', { target: 1 }, 'the prompt is missing: give "text" or "input_ids"', 'text'],
    ['/api/attribute', { text: 'a' }, '"target" is missing: give a token id or the text of one token (" Paris")', 'target'],
    ['/api/attribute', { text: 'a', target: 1.5 }, '"target" must be a token id or a token\'s text, got 1.5', 'target'],
    ['/api/attribute', { text: 'a', target: -1 }, '"target" must be >= 0, got -1', 'target'],
    ['/api/attribute', { text: 'a', target: '' }, 'unknown token "": it is 0 tokens, not one (give a token id, or the text of a single token, spaces included, e.g. " Paris")', 'target'],
    ['/api/attribute', { text: ' a'.repeat(65), target: 1 }, "the prompt has 65 tokens, above this server's limit of 64 for this endpoint", 'text'],
    ['/api/patch', { corrupted: 'b', answer: 1, wrong: 2 }, '"clean" is missing: give the clean prompt\'s text', 'clean'],
    ['/api/patch', { clean: '', corrupted: 'b', answer: 1, wrong: 2 }, 'the clean prompt is empty: GPT-2 needs at least one token', 'clean'],
    ['/api/patch', { clean: 'a', corrupted: ' b'.repeat(17), answer: 1, wrong: 2 }, "the corrupted prompt has 17 tokens, above this server's limit of 16 for /api/patch", 'corrupted'],
    ['/api/patch', { clean: 'a b c', corrupted: 'a b', answer: 1, wrong: 2 }, 'the clean and corrupted prompts must have the same number of tokens: clean has 3, corrupted has 2', 'corrupted'],
    ['/api/patch', { clean: 'a', corrupted: 'b', answer: ' Mary Ann', wrong: 2 }, 'unknown token " Mary Ann": it is 2 tokens [5335, 5506], not one (give a token id, or the text of a single token, spaces included, e.g. " Paris")', 'answer'],
    ['/api/patch', { clean: 'a', corrupted: 'b', answer: 1 }, '"wrong" is missing: give a token id or the text of one token (" Paris")', 'wrong'],
    ['/api/patch', { clean: 'a', corrupted: 'b', answer: 1, wrong: 2, hook: 'resid_post' }, '"hook" must be one of "resid_pre", "attn_out", "mlp_out", "z", got "resid_post"', 'hook'],
    ['/api/patch', { clean: 'a b', corrupted: 'a b', answer: 1, wrong: 2 }, 'the clean and corrupted prompts give the same logit difference (', 'corrupted'],
    ['/api/next', [1, 2], 'the request body must be a JSON object, got [1,2]', null],
    ['/api/next', '{"text": ', 'the request body is not valid JSON: ', null],
    ['/api/next', JSON.stringify({ text: 'x'.repeat(5000) }), "the request body is larger than this server's limit of 4096 bytes", null],
  ];
  for (const [path, body, message, param] of cases) {
    test(`${path} ${typeof body === 'string' ? body.slice(0, 40) : JSON.stringify(body).slice(0, 60)}`, async () => {
      const r = await post(path, body);
      assert.equal(r.status, 400);
      const err = (r.json as { error: { message: string; param: string | null } }).error;
      if (message.endsWith(': ') || message.endsWith('(')) assert.ok(err.message.startsWith(message), err.message);
      else assert.equal(err.message, message);
      assert.equal(err.param, param);
    });
  }

  test('a streamed request with a bad setting is a 400, not an event stream', async () => {
    const r = await post('/api/generate', { text: 'a', stream: true, top_p: 2 });
    assert.equal(r.status, 400);
    assert.deepEqual(r.json, { error: { message: '"top_p" must be <= 1, got 2', param: 'top_p' } });
  });

  test('unknown endpoints are 404 and wrong methods 405, as JSON', async () => {
    const a = await post('/api/nope', {});
    assert.equal(a.status, 404);
    assert.deepEqual(a.json, { error: { message: 'no such endpoint: POST /api/nope (see docs/api.md)', param: null } });
    const b = await fetch(new URL('/api/next', base));
    assert.equal(b.status, 405);
    assert.equal(b.headers.get('allow'), 'POST');
    assert.deepEqual(await b.json(), { error: { message: '/api/next takes POST, not GET', param: null } });
  });

  test('the server still answers after all of that', async () => {
    const r = await ok<NextResponse>('/api/next', { text: NOTEBOOK, top: 1 });
    const notebook = readGolden<{ cases: ForwardCase[] }>('golden-forward.json').cases[0]!;
    assert.deepEqual(r.top.map((t) => t.id), [notebook.logits_summary.argmax[4]]);
  });
});

describe('the queue', () => {
  test('20 concurrent requests are all answered, one model job at a time, each as if alone', async () => {
    model.maxActive = 0;
    const bodies = Array.from({ length: 20 }, (_, i) => {
      switch (i % 4) {
        case 0:
          return ['/api/next', { text: `${NOTEBOOK} ${i}`, top: 3 }] as const;
        case 1:
          return ['/api/forward', { text: `Hello ${i}`, lens_top: 1 }] as const;
        case 2:
          return ['/api/generate', { text: `Once ${i}`, max_new_tokens: 4 }] as const;
        default:
          return ['/api/tokenize', { text: `tokens ${i}` }] as const;
      }
    });
    const answers = await Promise.all(bodies.map(([path, body]) => post(path, body)));
    assert.deepEqual(answers.map((a) => a.status), Array(20).fill(200));
    assert.equal(model.maxActive, 1, 'never two forward passes at once');
    assert.equal(server.queue.pending, 0);
    assert.equal(server.queue.busy, false);
    // each answer equals the same request made alone
    for (const i of [0, 1, 2, 3]) assert.deepEqual(answers[i]!.json, await ok(bodies[i]![0], bodies[i]![1]));
  });

  test('a client that goes away is dropped from the queue, or its generation stops; the queue is then free', async () => {
    // a model that never yields by itself: the server must give the event loop its turns
    const plain = await CountingModel.from_pretrained(FIXTURE_DIR);
    const slow = createServer({ model: plain, tokenizer, limits: { max_new_tokens: 1000 } });
    const url = (await slow.listen(0)).url;
    try {
      // A: a long streamed generation that holds the model
      const a = new AbortController();
      const resA = await fetch(new URL('/api/generate', url), {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        // min_new_tokens keeps eos away: this generation can only end by its client leaving
        body: JSON.stringify({ input_ids: [50256], max_new_tokens: 1000, min_new_tokens: 1000, stream: true }),
        signal: a.signal,
      });
      const reader = resA.body!.getReader();
      let seen = '';
      while ((seen.match(/event: token/g) ?? []).length < 3) {
        const chunk = await reader.read();
        assert.ok(!chunk.done, 'the stream ended early');
        seen += new TextDecoder().decode(chunk.value);
      }
      assert.equal(slow.queue.busy, true);

      // B waits behind A; its client leaves; it is dropped from the queue without running
      const b = new AbortController();
      const resB = fetch(new URL('/api/next', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'B' }), signal: b.signal }).catch((e: unknown) => e);
      await until(() => slow.queue.pending === 1, 'B waits in the queue');
      b.abort();
      assert.ok((await resB) instanceof Error);
      await until(() => slow.queue.pending === 0, 'B leaves the queue');
      assert.equal(slow.queue.busy, true, 'A is still running');

      // A's client leaves: its generation stops at the next step and frees the queue
      a.abort();
      await reader.cancel().catch(() => {});
      await until(() => !slow.queue.busy, 'the cancelled generation frees the queue');
      const callsAtStop = plain.calls;
      assert.ok(callsAtStop > 0);
      const c = await fetch(new URL('/api/tokenize', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'C' }) });
      assert.equal(c.status, 200);
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(plain.calls, callsAtStop, 'no forward pass ran after the cancelled generation stopped');
      const d = await fetch(new URL('/api/next', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ text: 'D', top: 1 }) });
      assert.equal(d.status, 200);
      assert.equal(plain.calls, callsAtStop + 1);
    } finally {
      await slow.close();
    }
  });
});

describe('static files', () => {
  const root = mkdtempSync(join(tmpdir(), 'gpt2-lens-web-'));
  mkdirSync(join(root, 'assets'));
  writeFileSync(join(root, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(root, 'assets', 'engine.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(root, 'assets', 'style.css'), 'body{}');
  let site: ExplorerServer;
  let url: string;
  before(async () => {
    site = createServer({ model, tokenizer, webRoot: root });
    url = (await site.listen(0)).url;
  });
  after(() => site.close());

  test('index.html, scripts, styles and wasm with their MIME types and the isolation headers', async () => {
    for (const [path, type] of [
      ['/', 'text/html; charset=utf-8'],
      ['/assets/app-1234.js', 'text/javascript; charset=utf-8'],
      ['/assets/style.css', 'text/css; charset=utf-8'],
      ['/assets/engine.wasm', 'application/wasm'],
    ] as const) {
      const res = await fetch(new URL(path, url));
      assert.equal(res.status, 200, path);
      assert.equal(res.headers.get('content-type'), type, path);
      assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
      assert.equal(res.headers.get('cross-origin-embedder-policy'), 'require-corp');
      assert.match(res.headers.get('content-security-policy')!, /default-src 'self'/);
      await res.arrayBuffer();
    }
    assert.equal(await (await fetch(new URL('/', url))).text(), '<!doctype html><title>t</title>');
  });

  test('nothing outside the web root, and 404 for missing files', async () => {
    for (const path of ['/../package.json', '/%2e%2e/package.json', '/assets/../../etc/passwd', '/nope.js']) {
      const res = await fetch(new URL(path, url));
      assert.equal(res.status, 404, path);
      await res.arrayBuffer();
    }
  });

  test('a page that is not built says how to build it', async () => {
    const bare = createServer({ model, tokenizer, webRoot: join(root, 'missing') });
    const u = (await bare.listen(0)).url;
    try {
      const res = await fetch(u);
      assert.equal(res.status, 503);
      assert.match(await res.text(), /npm run build:web/);
    } finally {
      await bare.close();
    }
  });
});
