// Talking to the gpt2-lens server: JSON requests, and the Server-Sent Events of /api/generate read from a fetch
// stream (EventSource cannot POST). The wire types are the server's own (src/server/types.ts).
import type {
  ApiErrorBody,
  BeamEvent,
  ForwardRequest,
  ForwardResponse,
  GenerateRequest,
  GenerateResponse,
  ModelInfo,
  NextRequest,
  NextResponse,
  TokenEvent,
  TokenizeResponse,
} from '../../src/server/types.ts';

export type * from '../../src/server/types.ts';

/** An error the API answered with (its message is written for people), or a network failure. */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(
    message: string,
    readonly param: string | null = null,
    readonly status = 0,
  ) {
    super(message);
  }
}

export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const res = await fetch(path, {
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

export const api = {
  model: (signal?: AbortSignal) => call<ModelInfo>('GET', '/api/model', undefined, signal),
  tokenize: (text: string, signal?: AbortSignal) => call<TokenizeResponse>('POST', '/api/tokenize', { text }, signal),
  next: (req: NextRequest, signal?: AbortSignal) => call<NextResponse>('POST', '/api/next', req, signal),
  forward: (req: ForwardRequest, signal?: AbortSignal) => call<ForwardResponse>('POST', '/api/forward', req, signal),
  generate: (req: GenerateRequest, signal?: AbortSignal) =>
    call<GenerateResponse>('POST', '/api/generate', { ...req, stream: false }, signal),
};

export interface StreamHandlers {
  token?: (e: TokenEvent) => void;
  beam?: (e: BeamEvent) => void;
}

/** POST /api/generate with stream: true; calls the handlers per event and resolves with the final `done` JSON. */
export async function generateStream(req: GenerateRequest, on: StreamHandlers, signal?: AbortSignal): Promise<GenerateResponse> {
  const res = await fetch('/api/generate', {
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
        throw new ApiCallError(err.message, err.param);
      }
    }
  }
  if (!done) throw new ApiCallError('the generation stream ended without a result');
  return done;
}
