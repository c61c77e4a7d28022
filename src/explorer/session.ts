// ExplorerSession: what the explorer's API computes, over one loaded model and tokenizer, with no HTTP and no Node
// built-in. `gpt2-lens serve` answers HTTP requests with it (src/server); the static page runs it in a Web Worker
// (./worker.ts) and talks to it with messages (./protocol.ts). Both transports give the same answers.
//
//   const session = new ExplorerSession({ model, tokenizer });
//   await session.next({ text: 'The theory of relativity is', top_k: 5 });
//   await session.generate({ text: 'Hello', stream: true }, { onEvent: (e) => console.log(e.event, e.data) });
//
// Every request body is untrusted JSON: it is checked against the endpoint's schema (./schema.ts) and the limits,
// and a mistake is an ApiError naming the field (a 400 over HTTP, an error reply over messages).
import type { GPT2LMHeadModel } from '../model/model.js';
import type { GPT2Tokenizer } from '../tokenizer/gpt2-tokenizer.js';
import type { SessionContext } from './context.js';
import { ApiError } from './errors.js';
import { prepareForward } from './forward.js';
import { checkGenerate, runGenerate, type ExplorerEvent } from './generate.js';
import { DEFAULT_LIMITS } from './limits.js';
import { prepareAttribute, prepareApiPatch } from './interventions.js';
import { prepareNext } from './next.js';
import { attributeSchema, forwardSchema, generateSchema, nextSchema, patchSchema, tokenizeSchema } from './schema.js';
import { validate } from './validate.js';
import type {
  AttributeRequest,
  Attribution,
  ForwardRequest,
  ForwardResponse,
  GenerateRequest,
  GenerateResponse,
  ModelInfo,
  NextRequest,
  NextResponse,
  PatchRequest,
  PatchResult,
  ServerLimits,
  TokenizeRequest,
  TokenizeResponse,
} from './types.js';

export interface ExplorerSessionOptions {
  model: GPT2LMHeadModel;
  tokenizer: GPT2Tokenizer;
  /** overrides of DEFAULT_LIMITS */
  limits?: Partial<ServerLimits>;
  /** the model's name in model() (default model.name_or_path) */
  modelName?: string;
  /** how a long job gives the event loop a turn between forward passes (default: a zero timeout) */
  yieldTurn?: () => Promise<void>;
}

/** The API's methods, named as their HTTP paths are (`/api/<method>`). */
export const EXPLORER_METHODS = ['model', 'tokenize', 'next', 'forward', 'generate', 'attribute', 'patch'] as const;
export type ExplorerMethod = (typeof EXPLORER_METHODS)[number];

export interface RunOptions {
  /** stops the job (generation checks it before every forward pass); the job then rejects with signal.reason */
  signal?: AbortSignal;
  /** generate with `stream: true`: each token or beam event as it happens */
  onEvent?: (e: ExplorerEvent) => void;
}

/** A checked request, ready to run. `heavy` jobs use the model (a transport runs them one at a time). */
export interface PreparedRequest {
  method: ExplorerMethod;
  heavy: boolean;
  /** whether events will come (generate with stream: true) */
  streams: boolean;
  run(options?: RunOptions): Promise<unknown>;
}

/** No body at all (a GET, a message without one) is an empty request; anything else is checked as it is. */
function orEmpty(body: unknown): unknown {
  return body === undefined ? {} : body;
}

export class ExplorerSession {
  readonly limits: Readonly<ServerLimits>;
  private readonly ctx: SessionContext;

  constructor(options: ExplorerSessionOptions) {
    this.limits = Object.freeze({ ...DEFAULT_LIMITS, ...options.limits });
    this.ctx = {
      model: options.model,
      tokenizer: options.tokenizer,
      limits: this.limits,
      modelName: options.modelName ?? options.model.name_or_path,
      yieldTurn: options.yieldTurn ?? (() => new Promise<void>((resolve) => setTimeout(resolve, 0))),
    };
  }

  /**
   * Checks `body` for `method` (schema, limits, the prompt, generate()'s validation) without running the model;
   * throws ApiError on a mistake. The transports call this before queueing, so that a bad request is answered at once.
   */
  prepare(method: string, body: unknown): PreparedRequest {
    const config = this.ctx.model.config;
    const V = config.vocab_size;
    switch (method) {
      case 'model':
        return { method, heavy: false, streams: false, run: async () => this.model() };
      case 'tokenize': {
        const res = this.tokenizeChecked(validate<TokenizeRequest>(orEmpty(body), tokenizeSchema(this.limits)));
        return { method, heavy: false, streams: false, run: async () => res };
      }
      case 'next': {
        const job = prepareNext(this.ctx, validate<NextRequest>(orEmpty(body), nextSchema(config, this.limits)));
        return { method, heavy: true, streams: false, run: () => job() };
      }
      case 'forward': {
        const job = prepareForward(this.ctx, validate<ForwardRequest>(orEmpty(body), forwardSchema(V)));
        return { method, heavy: true, streams: false, run: () => job() };
      }
      case 'generate': {
        const checked = checkGenerate(this.ctx, validate<GenerateRequest>(orEmpty(body), generateSchema(config, this.limits)));
        const streams = checked.body.stream === true;
        return {
          method,
          heavy: true,
          streams,
          run: (o = {}) => runGenerate(this.ctx, checked, streams && o.onEvent ? o.onEvent : null, o.signal),
        };
      }
      case 'attribute': {
        const job = prepareAttribute(this.ctx, validate<AttributeRequest>(orEmpty(body), attributeSchema(V)));
        return { method, heavy: true, streams: false, run: (o = {}) => job(o.signal) };
      }
      case 'patch': {
        const job = prepareApiPatch(this.ctx, validate<PatchRequest>(orEmpty(body), patchSchema(V, this.limits)));
        return { method, heavy: true, streams: false, run: (o = {}) => job(o.signal) };
      }
      default:
        throw new ApiError(`no such method: ${JSON.stringify(method)}; the explorer's API has ${EXPLORER_METHODS.join(', ')}`, null, 404);
    }
  }

  /** GET /api/model: the config, the parameter count, whether the weights are random, the limits. */
  model(): ModelInfo {
    const { model } = this.ctx;
    const c = model.config;
    return {
      model: this.ctx.modelName,
      random: model.is_random,
      config: {
        vocab_size: c.vocab_size,
        n_positions: c.n_positions,
        n_embd: c.n_embd,
        n_layer: c.n_layer,
        n_head: c.n_head,
        n_inner: c.n_inner,
        bos_token_id: c.bos_token_id,
        eos_token_id: c.eos_token_id,
      },
      n_params: model.num_parameters(),
      generation_config: model.generation_config,
      limits: { ...this.limits },
    };
  }

  /** POST /api/tokenize: the CLI's tokenize JSON. */
  async tokenize(body: TokenizeRequest | unknown): Promise<TokenizeResponse> {
    return (await this.prepare('tokenize', body).run()) as TokenizeResponse;
  }

  /** POST /api/next: the next-token table, raw and after the knobs. */
  async next(body: NextRequest | unknown, options: RunOptions = {}): Promise<NextResponse> {
    return (await this.prepare('next', body).run(options)) as NextResponse;
  }

  /** POST /api/forward: attention, hidden states, the logit lens. */
  async forward(body: ForwardRequest | unknown, options: RunOptions = {}): Promise<ForwardResponse> {
    return (await this.prepare('forward', body).run(options)) as ForwardResponse;
  }

  /** POST /api/generate: the CLI's generate JSON; with `stream: true`, token or beam events through onEvent first. */
  async generate(body: GenerateRequest | unknown, options: RunOptions = {}): Promise<GenerateResponse> {
    return (await this.prepare('generate', body).run(options)) as GenerateResponse;
  }

  /** POST /api/attribute: `gpt2-lens attribute --json`, the direct logit attribution of `target` at the last position. */
  async attribute(body: AttributeRequest | unknown, options: RunOptions = {}): Promise<Attribution> {
    return (await this.prepare('attribute', body).run(options)) as Attribution;
  }

  /** POST /api/patch: `gpt2-lens patch --json`, the activation patching grid of a clean/corrupted pair. */
  async patch(body: PatchRequest | unknown, options: RunOptions = {}): Promise<PatchResult> {
    return (await this.prepare('patch', body).run(options)) as PatchResult;
  }

  private tokenizeChecked(body: { text?: string }): TokenizeResponse {
    if (body.text === undefined) throw new ApiError('"text" is missing', 'text');
    const tokens = this.ctx.tokenizer.encodeWithOffsets(body.text);
    if (tokens.length > this.limits.max_prompt_tokens) {
      throw new ApiError(`the text has ${tokens.length} tokens, above this server's limit of ${this.limits.max_prompt_tokens}`, 'text');
    }
    return { ids: tokens.map((t) => t.id), tokens: tokens.map((t) => ({ id: t.id, text: t.text, bytes: t.bytes, start: t.start, end: t.end })) };
  }
}
