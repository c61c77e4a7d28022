// The page's API: one interface (ExplorerApi), two transports. HttpExplorerClient talks to `gpt2-lens serve`;
// WorkerExplorerClient talks to the same computation (ExplorerSession) running in a Web Worker on this machine.
// The page uses HTTP for now. The wire types are the session's own (src/explorer/types.ts).
import { HttpExplorerClient } from '../../src/explorer/http-client.ts';
import type { ExplorerApi, StreamHandlers } from '../../src/explorer/api.ts';
import type { GenerateRequest, GenerateResponse } from '../../src/explorer/types.ts';

export type * from '../../src/explorer/types.ts';
export { ApiCallError, isAbort, type ExplorerApi, type StreamHandlers } from '../../src/explorer/api.ts';
export { HttpExplorerClient } from '../../src/explorer/http-client.ts';
export { WorkerExplorerClient } from '../../src/explorer/worker-client.ts';

/** The API the page talks to: the server that served it. */
export const api: ExplorerApi = new HttpExplorerClient('');

/** POST /api/generate with stream: true; calls the handlers per event and resolves with the final `done` JSON. */
export function generateStream(req: GenerateRequest, on: StreamHandlers, signal?: AbortSignal): Promise<GenerateResponse> {
  return api.generateStream(req, on, signal);
}
