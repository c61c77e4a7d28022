// The explorer's API as a page (or any program) calls it: one interface, two transports. HttpExplorerClient talks to
// `gpt2-lens serve` (./http-client.ts); WorkerExplorerClient talks to an ExplorerSession in a Web Worker
// (./worker-client.ts). Both answer the same requests with the same JSON, and fail with the same ApiCallError.
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

/** An error the API answered with (its message is written for people), or a failure to reach it. */
export class ApiCallError extends Error {
  override name = 'ApiCallError';
  constructor(
    message: string,
    /** the request field at fault, or null */
    readonly param: string | null = null,
    /** the HTTP status the error has (400: a bad request, 503: busy, 500: a failure); 0 once a stream had begun */
    readonly status = 0,
  ) {
    super(message);
  }
}

/** Whether `err` is the rejection of an aborted call (both clients reject as fetch does: a DOMException AbortError). */
export function isAbort(err: unknown): boolean {
  return err instanceof DOMException && err.name === 'AbortError';
}

/** What a streamed generation reports as it goes. */
export interface StreamHandlers {
  token?: (e: TokenEvent) => void;
  beam?: (e: BeamEvent) => void;
}

export interface ExplorerApi {
  model(signal?: AbortSignal): Promise<ModelInfo>;
  tokenize(req: TokenizeRequest, signal?: AbortSignal): Promise<TokenizeResponse>;
  next(req: NextRequest, signal?: AbortSignal): Promise<NextResponse>;
  forward(req: ForwardRequest, signal?: AbortSignal): Promise<ForwardResponse>;
  /** the whole answer at once (`stream: false`) */
  generate(req: GenerateRequest, signal?: AbortSignal): Promise<GenerateResponse>;
  /** `stream: true`: the handlers get each event as it happens; resolves with the same answer as generate() */
  generateStream(req: GenerateRequest, on: StreamHandlers, signal?: AbortSignal): Promise<GenerateResponse>;
  /** direct logit attribution (`gpt2-lens attribute --json`) */
  attribute(req: AttributeRequest, signal?: AbortSignal): Promise<Attribution>;
  /** activation patching (`gpt2-lens patch --json`) */
  patch(req: PatchRequest, signal?: AbortSignal): Promise<PatchResult>;
}
