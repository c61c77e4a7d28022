// The page's API: one interface (ExplorerApi), two transports. HttpExplorerClient talks to `gpt2-lens serve`;
// WorkerExplorerClient talks to the same computation (ExplorerSession) running in a Web Worker on this machine.
// Built for `serve`, the page uses HTTP; built as the static site (npm run build:site), site/SiteShell.tsx loads a
// model into a Worker and hands its client to setApi. The wire types are the session's own (src/explorer/types.ts).
import { HttpExplorerClient } from '../../src/explorer/http-client.ts';
import type { ExplorerApi, StreamHandlers } from '../../src/explorer/api.ts';
import type { GenerateRequest, GenerateResponse } from '../../src/explorer/types.ts';

export type * from '../../src/explorer/types.ts';
export { ApiCallError, isAbort, type ExplorerApi, type StreamHandlers } from '../../src/explorer/api.ts';
export { HttpExplorerClient } from '../../src/explorer/http-client.ts';
export { WorkerExplorerClient } from '../../src/explorer/worker-client.ts';

let current: ExplorerApi = new HttpExplorerClient('');

/** Makes every later call of `api` go to `client` (the static site: the Worker that holds the loaded model). */
export function setApi(client: ExplorerApi): void {
  current = client;
}

/** The API the page talks to: the server that served it, or the client setApi was given. */
export const api: ExplorerApi = {
  model: (signal) => current.model(signal),
  tokenize: (req, signal) => current.tokenize(req, signal),
  next: (req, signal) => current.next(req, signal),
  forward: (req, signal) => current.forward(req, signal),
  generate: (req, signal) => current.generate(req, signal),
  generateStream: (req, on, signal) => current.generateStream(req, on, signal),
  attribute: (req, signal) => current.attribute(req, signal),
  patch: (req, signal) => current.patch(req, signal),
};

/** POST /api/generate with stream: true; calls the handlers per event and resolves with the final `done` JSON. */
export function generateStream(req: GenerateRequest, on: StreamHandlers, signal?: AbortSignal): Promise<GenerateResponse> {
  return api.generateStream(req, on, signal);
}
