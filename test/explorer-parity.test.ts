// One API, two transports: the same requests through HTTP (HttpExplorerClient against a real createServer on
// 127.0.0.1) and through messages (WorkerExplorerClient against src/explorer/worker.ts running in a node:worker_threads
// thread, every message structured-cloned), answers compared field for field: results, streamed events, errors.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import { readTokenizerFolder } from '../src/node/tokenizer.js';
import { createServer, type ExplorerServer } from '../src/server/index.js';
import { ApiCallError, isAbort, type ExplorerApi } from '../src/explorer/api.js';
import { HttpExplorerClient } from '../src/explorer/http-client.js';
import { WorkerExplorerClient } from '../src/explorer/worker-client.js';
import type { MessageEndpoint } from '../src/explorer/protocol.js';
import type { Attribution, GenerateRequest, GenerateResponse, NextResponse, PatchResult, TokenEvent } from '../src/explorer/types.js';
import { ablate, attribute, parseHeads, patch } from '../src/interp/index.js';
import { generate } from '../src/generation/index.js';
import { ablationHooksFor } from '../src/interp/index.js';
import { FIXTURE_DIR, REPO_ROOT, readGolden } from './helpers/fixtures.js';

const LIMITS = { max_body_bytes: 4096, max_prompt_tokens: 64, max_forward_tokens: 16, max_new_tokens: 40, num_beams: 4, num_return_sequences: 4, max_top: 50, max_queue: 64, max_patch_tokens: 16 };
const NOTEBOOK = 'The theory of relativity is';
const NOTEBOOK_IDS = [464, 4583, 286, 44449, 318];

let server: ExplorerServer;
let worker: Worker;
let http: ExplorerApi;
let viaWorker: WorkerExplorerClient;
let model: GPT2LMHeadModel;

/** The worker file runs TypeScript: tsx's loader, started inside the thread. */
function startWorker(): Worker {
  const entry = join(REPO_ROOT, 'test', 'helpers', 'explorer-worker.ts');
  const source = `import('tsx/esm/api').then(({ tsImport }) => tsImport(${JSON.stringify(entry)}, ${JSON.stringify(import.meta.url)}))`;
  return new Worker(source, { eval: true });
}

function endpoint(w: Worker): MessageEndpoint {
  return {
    postMessage: (m, transfer) => w.postMessage(m, transfer as never),
    addEventListener: (_type, listener) => void w.on('message', (data: unknown) => listener({ data })),
  };
}

before(async () => {
  model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  server = createServer({ model, tokenizer: readTokenizerFolder(FIXTURE_DIR), limits: LIMITS, modelName: 'gpt2-tiny' });
  http = new HttpExplorerClient((await server.listen(0, '127.0.0.1')).url);
  worker = startWorker();
  const read = (f: string): string => readFileSync(join(FIXTURE_DIR, f), 'utf8');
  const weights = new Uint8Array(readFileSync(join(FIXTURE_DIR, 'model.safetensors')));
  viaWorker = await WorkerExplorerClient.start(
    endpoint(worker),
    {
      type: 'init',
      // the page's way: the files' contents, no path; the weights' buffer is handed over, not copied
      model: { config: JSON.parse(read('config.json')), generation_config: JSON.parse(read('generation_config.json')), weights, name_or_path: 'gpt2-tiny' },
      tokenizer: { vocab: JSON.parse(read('vocab.json')) as Record<string, number>, merges: read('merges.txt'), config: JSON.parse(read('tokenizer_config.json')) },
      modelName: 'gpt2-tiny',
      limits: LIMITS,
    },
    [weights.buffer],
  );
});
after(async () => {
  await server.close();
  await worker.terminate();
});

type Outcome = { ok: unknown; events?: unknown[] } | { error: { name: string; message: string; param: string | null; status: number } };

async function outcome(call: (api: ExplorerApi, events: unknown[]) => Promise<unknown>, api: ExplorerApi): Promise<Outcome> {
  const events: unknown[] = [];
  try {
    const ok = await call(api, events);
    return events.length ? { ok, events } : { ok };
  } catch (err) {
    if (!(err instanceof ApiCallError)) throw err;
    return { error: { name: err.name, message: err.message, param: err.param, status: err.status } };
  }
}

/** Runs `call` through both transports; asserts the outcomes are equal and returns it. */
async function same(what: string, call: (api: ExplorerApi, events: unknown[]) => Promise<unknown>): Promise<Outcome> {
  const a = await outcome(call, http);
  const b = await outcome(call, viaWorker);
  assert.deepEqual(b, a, what);
  return a;
}

const stream = (req: GenerateRequest) => (api: ExplorerApi, events: unknown[]) =>
  api.generateStream(req, { token: (e) => events.push({ token: e }), beam: (e) => events.push({ beam: e }) });

test('model, tokenize, next and forward: the same JSON over HTTP and over worker messages', async () => {
  const info = await same('model', (api) => api.model());
  assert.equal((info as { ok: { n_params: number } }).ok.n_params, 3_382_080);
  assert.equal(viaWorker.info?.model, 'gpt2-tiny');
  const tok = await same('tokenize', (api) => api.tokenize({ text: 'héllo wörld 🤗 The theory' }));
  assert.ok('ok' in tok);
  const next = await same('next', (api) => api.next({ text: NOTEBOOK }));
  assert.deepEqual((next as { ok: { input_ids: number[] } }).ok.input_ids, NOTEBOOK_IDS);
  const knobs = await same('next with knobs', (api) => api.next({ input_ids: NOTEBOOK_IDS, top: 20, temperature: 0.7, top_k: 30, top_p: 0.8, min_p: 0.01, repetition_penalty: 1.3 }));
  assert.equal((knobs as { ok: { knobs: unknown[] } }).ok.knobs.length, 5);
  const fwd = await same('forward', (api) => api.forward({ text: NOTEBOOK, hidden_states: true, lens_top: 4 }));
  const f = (fwd as { ok: { attentions: unknown[]; hidden_states: unknown[]; lens: unknown[] } }).ok;
  assert.deepEqual([f.attentions.length, f.hidden_states.length, f.lens.length], [2, 3, 3]);
});

test('generate: answers and streamed token and beam events are the same, and HF\'s', async () => {
  const golden = new Map(readGolden<{ cases: { name: string; kwargs: Record<string, unknown>; input_ids: number[][]; sequences: number[][] }[] }>('golden-generate.json').cases.map((c) => [c.name, c]));
  let events = 0;
  for (const name of ['greedy_rep1.3', 'beam4_return2']) {
    const g = golden.get(name)!;
    const req = { input_ids: g.input_ids[0]!, ...g.kwargs } as GenerateRequest;
    const plain = await same(`${name}, whole`, (api) => api.generate(req));
    assert.deepEqual((plain as { ok: { sequences: { ids: number[] }[] } }).ok.sequences.map((s) => s.ids), g.sequences, name);
    const streamed = await same(`${name}, streamed`, stream({ ...req, top: 4 }));
    assert.deepEqual((streamed as { ok: unknown }).ok, (plain as { ok: unknown }).ok, `${name}: the stream ends in the same answer`);
    events += (streamed as { events: unknown[] }).events.length;
  }
  const sampled = await same('sampling, 2 rows, seeded', stream({ text: NOTEBOOK, do_sample: true, temperature: 1.3, top_k: 40, top_p: 0.95, repetition_penalty: 1.2, seed: 1234, max_new_tokens: 12, num_return_sequences: 2 }));
  const tokens = (sampled as { events: { token: TokenEvent }[] }).events.map((e) => e.token);
  assert.equal(tokens.length, 24);
  assert.deepEqual(new Set(tokens.map((t) => t.row)), new Set([0, 1]));
  events += tokens.length;
  assert.ok(events > 24 + 20, `${events} events compared`);
});

test('errors: the same message, field and status over both transports', async () => {
  const cases: [string, (api: ExplorerApi, events: unknown[]) => Promise<unknown>, string, string | null, number][] = [
    ['tokenize without text', (api) => api.tokenize({} as never), '"text" is missing', 'text', 400],
    ['next: top_p out of range', (api) => api.next({ text: 'a', top_p: 1.5 }), '"top_p" must be <= 1, got 1.5', 'top_p', 400],
    ['next: unknown field', (api) => api.next({ text: 'a', top_q: 1 } as never), 'unknown field "top_q"; this endpoint takes: text, input_ids, top, ids, temperature, top_k, top_p, min_p, repetition_penalty, ablate, ablation', 'top_q', 400],
    ['next: both prompts', (api) => api.next({ text: 'a', input_ids: [1] }), 'give either "text" or "input_ids", not both', 'input_ids', 400],
    ['forward: too long', (api) => api.forward({ input_ids: Array.from({ length: 17 }, () => 1) }), "the prompt has 17 tokens, above this server's limit of 16 for this endpoint", 'input_ids', 400],
    ['generate: HF rule', (api) => api.generate({ text: 'a', num_return_sequences: 2 }), 'Greedy methods without beam search do not support `num_return_sequences` different than 1 (got 2).', 'num_return_sequences', 400],
    ['generate: bad seed', (api) => api.generate({ text: 'a', seed: -1 }), '`seed` must be an integer from 0 to 4294967295 (the range transformers.set_seed accepts), but is -1', 'seed', 400],
    ['streamed generate: a 400 before any event', stream({ text: 'a', num_beams: 9 }), '"num_beams" is 9, above this server\'s limit of 4', 'num_beams', 400],
  ];
  for (const [what, call, message, param, status] of cases) {
    assert.deepEqual(await same(what, call), { error: { name: 'ApiCallError', message, param, status } }, what);
  }
  assert.equal(cases.length, 8);
});

test('worker: an aborted stream rejects as an aborted fetch does, and the worker goes on serving requests', async () => {
  const ctrl = new AbortController();
  let seen = 0;
  const run = viaWorker.generateStream({ text: NOTEBOOK, max_new_tokens: 40 }, { token: () => void (++seen === 2 && ctrl.abort()) }, ctrl.signal);
  await assert.rejects(run, (err) => isAbort(err));
  assert.equal(seen, 2);
  const after = await viaWorker.next({ text: NOTEBOOK, top: 1 });
  assert.deepEqual(after, await http.next({ text: NOTEBOOK, top: 1 }));
});

const IOI_CLEAN = 'When Mary and John went to the store, John gave a drink to';
const IOI_CORRUPTED = 'When John and Mary went to the store, Mary gave a drink to';

test("interventions: ablation, attribution and patching give the library's (the CLI's --json) numbers over both transports", async () => {
  const tokenizer = readTokenizerFolder(FIXTURE_DIR);
  const ok = <T>(o: Outcome): T => {
    assert.ok('ok' in o, JSON.stringify(o));
    return o.ok as T;
  };
  // next with ablate: the table of `next --ablate --json` (the library's ablate()), and the unablated numbers of the plain request
  for (const kind of ['zero', 'mean'] as const) {
    const r = ok<NextResponse>(await same(`next, ${kind} ablation`, (api) => api.next({ input_ids: NOTEBOOK_IDS, top: 8, ablate: ['1.2', '0.1', '1.2'], ablation: kind })));
    const lib = await ablate(model, NOTEBOOK_IDS, parseHeads('0.1,1.2', model.config), { kind, top: 8, tokenizer });
    assert.deepEqual(r.top, lib.top, kind);
    assert.deepEqual(r.ablation!.heads, ['0.1', '1.2']);
    assert.equal(r.ablation!.kind, kind);
    const plain = await http.next({ input_ids: NOTEBOOK_IDS, top: 50, ids: r.reported.map((t) => t.id) });
    const byId = new Map(plain.reported.map((t) => [t.id, t]));
    assert.equal(r.ablation!.unablated.length, r.reported.length);
    for (const u of r.ablation!.unablated) {
      const p = byId.get(u.id)!;
      assert.deepEqual(u, { id: p.id, logit: p.logit, raw_prob: p.raw_prob, prob: p.prob });
    }
    assert.notDeepEqual(r.top.map((t) => t.logit), plain.top.slice(0, 8).map((t) => t.logit), 'the ablation changes the logits');
  }
  // no head: the plain table, bit for bit, and unablated = ablated
  const none = ok<NextResponse>(await same('next, ablate []', (api) => api.next({ input_ids: NOTEBOOK_IDS, top: 5, temperature: 0.8, ablate: [] })));
  const { ablation, ...rest } = none;
  assert.deepEqual(rest, await http.next({ input_ids: NOTEBOOK_IDS, top: 5, temperature: 0.8 }));
  assert.deepEqual(ablation!.unablated.map((u) => u.prob), none.reported.map((t) => t.prob));

  // generate with ablate: generate() with the ablation's hooks
  const gen = ok<GenerateResponse>(await same('generate, ablated', (api) => api.generate({ input_ids: NOTEBOOK_IDS, max_new_tokens: 6, ablate: ['0.3'], ablation: 'mean' })));
  const hooks = await ablationHooksFor(model, NOTEBOOK_IDS, parseHeads('0.3', model.config), 'mean');
  const libGen = await generate(model, { input_ids: NOTEBOOK_IDS, max_new_tokens: 6, hooks, on_warning: () => {} });
  assert.deepEqual(gen.sequences[0]!.ids, libGen.sequences[0]);

  // attribute: `attribute --json`, a token given by text or id, and the sum identity
  const target = (await http.next({ input_ids: NOTEBOOK_IDS, top: 1 })).top[0]!;
  const attr = ok<Attribution>(await same('attribute', (api) => api.attribute({ input_ids: NOTEBOOK_IDS, target: target.token })));
  assert.deepEqual(attr, await attribute(model, NOTEBOOK_IDS, target.id));
  assert.deepEqual(ok<Attribution>(await same('attribute by id', (api) => api.attribute({ text: NOTEBOOK, target: target.id }))), attr);
  assert.equal(attr.components.length, 2 + 2 * (4 + 2) + 1);
  assert.ok(Math.abs(attr.components.reduce((a, c) => a + c.value, 0) - attr.logit) < 1e-4);
  assert.equal(attr.logit, target.logit);

  // patch: `patch --json` for resid_pre (layer × position) and z (layer × head)
  const clean = tokenizer.encode(IOI_CLEAN);
  const corrupted = tokenizer.encode(IOI_CORRUPTED);
  const [mary, john] = [tokenizer.encode(' Mary')[0]!, tokenizer.encode(' John')[0]!];
  for (const hook of ['resid_pre', 'z'] as const) {
    const r = ok<PatchResult>(await same(`patch ${hook}`, (api) => api.patch({ clean: IOI_CLEAN, corrupted: IOI_CORRUPTED, answer: ' Mary', wrong: john, hook })));
    assert.deepEqual(r, await patch(model, { clean, corrupted, answer: mary, wrong: john, hook }), hook);
    assert.equal(r.recovered.length, 2);
    assert.equal(r.recovered[0]!.length, hook === 'z' ? 4 : clean.length);
  }
  // resid_pre at layer 0 is the token and position embeddings: where the two prompts have the same token, patching it changes nothing
  const grid = ok<PatchResult>(await same('patch default hook', (api) => api.patch({ clean: IOI_CLEAN, corrupted: IOI_CORRUPTED, answer: mary, wrong: ' John' })));
  assert.equal(grid.hook, 'resid_pre');
  const agree = clean.findIndex((id, t) => id === corrupted[t]);
  assert.equal(grid.recovered[0]![agree], 0);
});

test('interventions: the same 400s, naming the field, over both transports', async () => {
  const cases: [string, (api: ExplorerApi) => Promise<unknown>, string, string | null][] = [
    ['next: a head out of range', (api) => api.next({ text: 'a', ablate: ['2.0'] }), 'head 2.0 is out of range: this model has layers 0..1 and heads 0..3', 'ablate'],
    ['next: a malformed head', (api) => api.next({ text: 'a', ablate: ['1-2'] }), 'bad head "1-2": expected L.H (layer.head, e.g. 9.6), a comma-separated list of them', 'ablate'],
    ['next: ablation without ablate', (api) => api.next({ text: 'a', ablation: 'mean' }), '"ablation" needs "ablate" (which heads, e.g. ["9.6", "9.9"])', 'ablation'],
    ['next: a bad ablation kind', (api) => api.next({ text: 'a', ablate: ['0.0'], ablation: 'half' as never }), '"ablation" must be one of "zero", "mean", got "half"', 'ablation'],
    ['generate: a head out of range', (api) => api.generate({ text: 'a', ablate: ['0.4'] }), 'head 0.4 is out of range: this model has layers 0..1 and heads 0..3', 'ablate'],
    ['attribute: no target', (api) => api.attribute({ text: 'a' } as never), '"target" is missing: give a token id or the text of one token (" Paris")', 'target'],
    ['attribute: two tokens', (api) => api.attribute({ text: 'a', target: ' Parisian' }), 'unknown token " Parisian": it is 2 tokens [6342, 666], not one (give a token id, or the text of a single token, spaces included, e.g. " Paris")', 'target'],
    ['attribute: id out of range', (api) => api.attribute({ text: 'a', target: 50257 }), '"target" must be <= 50256, got 50257', 'target'],
    ['patch: lengths differ', (api) => api.patch({ clean: 'a b', corrupted: 'a', answer: 1, wrong: 2 }), 'the clean and corrupted prompts must have the same number of tokens: clean has 2, corrupted has 1', 'corrupted'],
    ['patch: over the limit', (api) => api.patch({ clean: ' a'.repeat(17), corrupted: ' b'.repeat(17), answer: 1, wrong: 2 }), "the clean prompt has 17 tokens, above this server's limit of 16 for /api/patch", 'clean'],
    ['patch: a bad hook', (api) => api.patch({ clean: 'a', corrupted: 'b', answer: 1, wrong: 2, hook: 'q' as never }), '"hook" must be one of "resid_pre", "attn_out", "mlp_out", "z", got "q"', 'hook'],
    ['patch: zero denominator', (api) => api.patch({ clean: 'a b', corrupted: 'a b', answer: 1, wrong: 2 }), 'the clean and corrupted prompts give the same logit difference (', 'corrupted'],
  ];
  for (const [what, call, message, param] of cases) {
    const o = await same(what, call);
    assert.ok('error' in o, what);
    if (message.endsWith('(')) assert.ok(o.error.message.startsWith(message), o.error.message);
    else assert.equal(o.error.message, message, what);
    assert.deepEqual([o.error.param, o.error.status], [param, 400], what);
  }
  assert.equal(cases.length, 12);
});

test('a worker that dies fails the requests waiting on it, and every later one, instead of hanging', async () => {
  // a channel whose far end never answers; its owner then sees the Worker die (web/src/site/loader.ts calls fail)
  const port: MessageEndpoint = { postMessage: () => {}, addEventListener: () => {} };
  const client = new WorkerExplorerClient(port);
  const waiting = client.tokenize({ text: 'a' });
  client.fail('the explorer worker stopped: out of memory');
  await assert.rejects(waiting, (e: ApiCallError) => e instanceof ApiCallError && e.message === 'the explorer worker stopped: out of memory' && e.status === 500);
  await assert.rejects(client.model(), (e: ApiCallError) => e.message === 'the explorer worker stopped: out of memory');
});
