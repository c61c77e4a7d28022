// The Web Worker that hosts an ExplorerSession: the static page's "server". Start it with
//
//   new Worker(new URL('gpt2-lens/src/explorer/worker.js', import.meta.url), { type: 'module' })
//
// and talk to it through WorkerExplorerClient (./worker-client.ts). The first message loads the model (from its
// files' bytes, or a random: spec) and the tokenizer; every later one is a request of ./protocol.ts.
// In a dedicated worker it starts by itself; elsewhere (Node's worker_threads) call serveExplorer with the port.
import { engineLoader, WasmBackend } from '../engine/backend.js';
import { browserWorkerSpawner } from '../engine/threads.js';
import { GPT2LMHeadModel } from '../model/model.js';
import { GPT2Tokenizer } from '../tokenizer/gpt2-tokenizer.js';
import { createExplorerHost } from './host.js';
import type { FromWorker, InitMessage, MessageEndpoint, TokenizerFiles, ToWorker, WorkerRuntime } from './protocol.js';
import { ExplorerSession } from './session.js';

function tokenizerFrom(files: TokenizerFiles): GPT2Tokenizer {
  if ('tokenizer_json' in files) return GPT2Tokenizer.fromTokenizerJson(files.tokenizer_json, files.config ?? {});
  return new GPT2Tokenizer(files.vocab, files.merges, files.config ?? {});
}

/** Loads the session an init message describes. */
export async function sessionFromInit(init: InitMessage): Promise<ExplorerSession> {
  return (await loadInit(init)).session;
}

/** The session, and what computes it (the page says what the model costs in memory). */
async function loadInit(init: InitMessage): Promise<{ session: ExplorerSession; runtime: WorkerRuntime }> {
  // With the engine, each tensor goes from the downloaded bytes straight into engine memory (fp32: the model's
  // weights then read engine memory), and the bytes are let go once loaded: the tab holds one copy of the weights.
  const threads = init.engine?.threads ?? 1;
  const loader = init.engine ? engineLoader({ dtype: init.engine.dtype ?? 'fp32', threads, ...(threads > 1 ? { spawn: browserWorkerSpawner() } : {}) }) : undefined;
  const model = await GPT2LMHeadModel.from_pretrained(init.model, loader ? { backendLoader: loader } : {});
  if (typeof init.model !== 'string') init.model.weights = new Uint8Array(0); // the message keeps no reference to the file's bytes
  let runtime: WorkerRuntime = { backend: model.backend.name, engineBytes: 0, memoryBytes: 0 };
  if (model.backend instanceof WasmBackend) {
    const { engine } = model.backend;
    runtime = { backend: model.backend.name, engineBytes: engine.weightBytes, memoryBytes: engine.memory.buffer.byteLength };
  }
  const tokenizer = tokenizerFrom(init.tokenizer);
  const session = new ExplorerSession({ model, tokenizer, limits: init.limits, ...(init.modelName ? { modelName: init.modelName } : {}) });
  return { session, runtime };
}

/** Serves the protocol on `port`: the first message must be init; requests before the model is ready wait for it. */
export function serveExplorer(port: MessageEndpoint): void {
  const post = (m: FromWorker): void => port.postMessage(m);
  let handle: ((m: Exclude<ToWorker, InitMessage>) => void) | null = null;
  const early: Exclude<ToWorker, InitMessage>[] = [];
  port.addEventListener('message', (e) => {
    const m = e.data as ToWorker;
    if (m?.type === 'init') {
      if (handle) return post({ type: 'init-error', message: 'the explorer worker is already initialized' });
      loadInit(m).then(
        ({ session, runtime }) => {
          handle = createExplorerHost(session, post);
          post({ type: 'ready', info: session.model(), runtime });
          for (const q of early.splice(0)) handle(q);
        },
        (err: unknown) => post({ type: 'init-error', message: err instanceof Error ? err.message : String(err) }),
      );
    } else if (m?.type === 'request' || m?.type === 'cancel') {
      if (handle) handle(m);
      else early.push(m);
    }
  });
}

// A dedicated Web Worker serves its own global scope.
const scope = globalThis as unknown as { WorkerGlobalScope?: new () => unknown } & MessageEndpoint;
if (typeof scope.WorkerGlobalScope === 'function' && scope instanceof scope.WorkerGlobalScope) serveExplorer(scope);
