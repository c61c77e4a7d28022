// Worker threads over one shared WebAssembly.Memory. Every worker instantiates the same kernels over the same
// memory and sits in the kernels' worker_loop: it sleeps in atomic.wait on the control block's sequence word
// (after a short spin), runs its slice of each op the main thread posts, and counts itself done with an atomic
// add. The main thread posts an op and computes slice 0 itself (kernels.ts: dispatch), so a forward pass stays
// synchronous. This file is browser-safe: how a worker is started is the `WorkerSpawner` (src/node/threads.ts for
// Node's worker_threads, browserWorkerSpawner below for Web Workers).

/** What a worker needs: the compiled kernels, the shared memory, the control block and its thread index. */
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: number;
  idx: number;
}

/** A started worker, ready once `ready` resolves. */
export interface WorkerHandle {
  ready: Promise<void>;
  terminate(): void;
}

/** Starts one worker running WORKER_SOURCE with `init`. */
export type WorkerSpawner = (init: WorkerInit) => WorkerHandle;

/**
 * The worker's whole program (plain JavaScript, so it runs unchanged in a Node worker_threads eval worker and in a
 * Web Worker from a Blob URL). `post` and `onInit` adapt to the host.
 */
export const WORKER_BODY = `
function start(init, post) {
  const instance = new WebAssembly.Instance(init.module, { env: { memory: init.memory } });
  post('ready');
  instance.exports.worker_loop(init.ctrl, init.idx); // returns at OP_EXIT
  post('exited');
}
`;

/** Web Workers: one module-less worker per thread from a Blob URL. Needs a cross-origin isolated page (COOP/COEP). */
export function browserWorkerSpawner(): WorkerSpawner {
  const source = `${WORKER_BODY}\nself.onmessage = (e) => start(e.data, (m) => self.postMessage(m));\n`;
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  return (init) => {
    const worker = new Worker(url);
    const ready = new Promise<void>((resolve, reject) => {
      worker.onmessage = (e: MessageEvent) => {
        if (e.data === 'ready') resolve();
      };
      worker.onerror = (e) => reject(new Error(`engine worker ${init.idx} failed: ${e.message}`));
    });
    worker.postMessage(init);
    return { ready, terminate: () => worker.terminate() };
  };
}
