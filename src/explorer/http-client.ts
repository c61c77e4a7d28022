// ExplorerApi over HTTP: JSON requests to `gpt2-lens serve`, and the Server-Sent Events of /api/generate read from a
// fetch stream (EventSource cannot POST). Browser-safe: fetch, TextDecoderStream, nothing of Node.
import { ApiCallError, type ExplorerApi, type StreamHandlers } from './api.js';
import type {
  ApiErrorBody,
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

export class HttpExplorerClient implements ExplorerApi {
  /** @param base the server's URL (`http://127.0.0.1:8080/`); '' for the page's own origin */
  constructor(readonly base = '') {}

  private url(path: string): string {
    return this.base ? new URL(path, this.base).href : path;
  }

  private async call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const res = await fetch(this.url(path), {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new ApiCallError(`the server answered ${res.status} with something that is not JSON`, null, res.status);
    }
    if (!res.ok) {
      const err = (json as ApiErrorBody).error;
      throw new ApiCallError(err?.message ?? `HTTP ${res.status}`, err?.param ?? null, res.status);
    }
    return json as T;
  }

  model(signal?: AbortSignal): Promise<ModelInfo> {
    return this.call('GET', '/api/model', undefined, signal);
  }

  tokenize(req: TokenizeRequest, signal?: AbortSignal): Promise<TokenizeResponse> {
    return this.call('POST', '/api/tokenize', req, signal);
  }

  next(req: NextRequest, signal?: AbortSignal): Promise<NextResponse> {
    return this.call('POST', '/api/next', req, signal);
  }

  forward(req: ForwardRequest, signal?: AbortSignal): Promise<ForwardResponse> {
    return this.call('POST', '/api/forward', req, signal);
  }

  generate(req: GenerateRequest, signal?: AbortSignal): Promise<GenerateResponse> {
    return this.call('POST', '/api/generate', { ...req, stream: false }, signal);
  }

  async generateStream(req: GenerateRequest, on: StreamHandlers, signal?: AbortSignal): Promise<GenerateResponse> {
    const res = await fetch(this.url('/api/generate'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ ...req, stream: true }),
      signal,
    });
    if (!res.ok || !res.body) {
      const json = (await res.json().catch(() => null)) as ApiErrorBody | null;
      throw new ApiCallError(json?.error?.message ?? `HTTP ${res.status}`, json?.error?.param ?? null, res.status);
    }
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let done: GenerateResponse | null = null;
    for (;;) {
      const { value, done: end } = await reader.read();
      if (end) break;
      buffer += value;
      // Events are separated by a blank line; each has `event: NAME` and one `data: JSON` line.
      let cut: number;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let event = 'message';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) event = line.slice(6).trim();
          else if (line.startsWith('data:')) data += line.slice(5).trimStart();
        }
        if (!data) continue;
        const payload = JSON.parse(data) as unknown;
        if (event === 'token') on.token?.(payload as TokenEvent);
        else if (event === 'beam') on.beam?.(payload as BeamEvent);
        else if (event === 'done') done = payload as GenerateResponse;
        else if (event === 'error') {
          const err = (payload as ApiErrorBody).error;
          throw new ApiCallError(err.message, err.param); // status 0: the stream had begun (HTTP said 200)
        }
      }
    }
    if (!done) throw new ApiCallError('the generation stream ended without a result');
    return done;
  }

  attribute(req: AttributeRequest, signal?: AbortSignal): Promise<Attribution> {
    return this.call('POST', '/api/attribute', req, signal);
  }

  patch(req: PatchRequest, signal?: AbortSignal): Promise<PatchResult> {
    return this.call('POST', '/api/patch', req, signal);
  }
}
