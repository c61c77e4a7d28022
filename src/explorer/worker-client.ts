// ExplorerApi over messages: the page's side of ./protocol.ts, talking to an ExplorerSession in a Web Worker
// (./worker.ts). Same requests, same answers, same ApiCallError as HttpExplorerClient; an aborted call rejects as an
// aborted fetch does (a DOMException AbortError) and tells the worker to stop.
//
//   const client = await WorkerExplorerClient.start(new Worker(url, { type: 'module' }), { type: 'init', model: 'random:gpt2', tokenizer });
//   await client.next({ text: 'Hello' });
import { ApiCallError, type ExplorerApi, type StreamHandlers } from './api.js';
import type { FromWorker, InitMessage, MessageEndpoint, RequestMessage, WorkerRuntime } from './protocol.js';
import type { ExplorerMethod } from './session.js';
import type {
  AttributeRequest,
  Attribution,
  BeamEvent,
  ForwardRequest,
  ForwardResponse,
  GenerateRequest,
  GenerateResponse,
  ModelInfo,
  NextRequest,
  NextResponse,
  PatchRequest,
  PatchResult,
  TokenEvent,
  TokenizeRequest,
  TokenizeResponse,
} from './types.js';

interface Pending {
  resolve(body: unknown): void;
  reject(err: unknown): void;
  on?: StreamHandlers;
}

function abortError(): DOMException {
  return new DOMException('the request was aborted', 'AbortError');
}

export class WorkerExplorerClient implements ExplorerApi {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** the model's description, from the worker's ready message */
  info: ModelInfo | null = null;
  /** what computes the model in the worker (backend, engine memory), from the ready message */
  runtime: WorkerRuntime | null = null;

  /** set once the worker has died: every later request fails at once with it */
  private dead: ApiCallError | null = null;

  constructor(private readonly port: MessageEndpoint) {
    port.addEventListener('message', (e) => this.receive(e.data as FromWorker));
  }

  /**
   * Rejects every request still waiting, and every later one, with `message` (a 500). Whoever owns the Worker calls
   * it when the worker dies (its `error` event: an uncaught error, out of memory), which answers nothing more.
   */
  fail(message: string): void {
    this.dead ??= new ApiCallError(message, null, 500);
    const waiting = [...this.pending.values()];
    this.pending.clear();
    for (const p of waiting) p.reject(this.dead);
  }

  /**
   * Sends `init` to a fresh worker and resolves once its model is loaded. `transfer` hands buffers (the weights'
   * bytes) to the worker instead of copying them.
   */
  static start(port: MessageEndpoint, init: InitMessage, transfer: Transferable[] = []): Promise<WorkerExplorerClient> {
    const client = new WorkerExplorerClient(port);
    return new Promise((resolve, reject) => {
      port.addEventListener('message', (e) => {
        const m = e.data as FromWorker;
        if (m.type === 'ready') {
          client.info = m.info;
          client.runtime = m.runtime ?? null;
          resolve(client);
        } else if (m.type === 'init-error') reject(new ApiCallError(`the explorer worker could not load the model: ${m.message}`, null, 500));
      });
      port.postMessage(init, transfer);
    });
  }

  private receive(m: FromWorker): void {
    if (m.type === 'ready' || m.type === 'init-error') return;
    const p = this.pending.get(m.id);
    if (!p) return; // cancelled
    if (m.type === 'event') {
      if (m.event === 'token') p.on?.token?.(m.body as TokenEvent);
      else p.on?.beam?.(m.body as BeamEvent);
      return;
    }
    this.pending.delete(m.id);
    if (m.type === 'result') p.resolve(m.body);
    else p.reject(new ApiCallError(m.body.error.message, m.body.error.param, m.status));
  }

  private call<T>(method: ExplorerMethod, body: unknown, signal?: AbortSignal, on?: StreamHandlers): Promise<T> {
    if (signal?.aborted) return Promise.reject(abortError());
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const onAbort = (): void => {
        if (!this.pending.delete(id)) return;
        this.port.postMessage({ type: 'cancel', id });
        reject(abortError());
      };
      const done = (): void => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, {
        resolve: (b) => {
          done();
          resolve(b as T);
        },
        reject: (e) => {
          done();
          reject(e);
        },
        ...(on ? { on } : {}),
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      const m: RequestMessage = { type: 'request', id, method, ...(body === undefined ? {} : { body }) };
      this.port.postMessage(m);
    });
  }

  model(signal?: AbortSignal): Promise<ModelInfo> {
    return this.call('model', undefined, signal);
  }

  tokenize(req: TokenizeRequest, signal?: AbortSignal): Promise<TokenizeResponse> {
    return this.call('tokenize', req, signal);
  }

  next(req: NextRequest, signal?: AbortSignal): Promise<NextResponse> {
    return this.call('next', req, signal);
  }

  forward(req: ForwardRequest, signal?: AbortSignal): Promise<ForwardResponse> {
    return this.call('forward', req, signal);
  }

  generate(req: GenerateRequest, signal?: AbortSignal): Promise<GenerateResponse> {
    return this.call('generate', { ...req, stream: false }, signal);
  }

  generateStream(req: GenerateRequest, on: StreamHandlers, signal?: AbortSignal): Promise<GenerateResponse> {
    return this.call('generate', { ...req, stream: true }, signal, on);
  }

  attribute(req: AttributeRequest, signal?: AbortSignal): Promise<Attribution> {
    return this.call('attribute', req, signal);
  }

  patch(req: PatchRequest, signal?: AbortSignal): Promise<PatchResult> {
    return this.call('patch', req, signal);
  }
}
