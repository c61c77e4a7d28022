// Node's side of the engine's threads: workers from node:worker_threads (an eval'd copy of threads.ts's
// WORKER_BODY), and defaults of every core. Exported from 'gpt2-lens/node'.
import { availableParallelism } from 'node:os';
import { setFlagsFromString } from 'node:v8';
import { Worker } from 'node:worker_threads';
import type { ForwardBackend } from '../model/backend.js';
import type { GPT2Config, GPT2Weights } from '../model/types.js';
import { engineLoader, WasmBackend } from '../engine/backend.js';
import type { BackendLoader } from '../model/model.js';
import type { EngineOptions } from '../engine/engine.js';
import { WORKER_BODY, type WorkerSpawner } from '../engine/threads.js';
import { relaxedSimdSupported } from '../engine/wasm/module.js';

/**
 * Turns on WebAssembly relaxed SIMD where the runtime has it behind a flag (Node 20: `--experimental-wasm-relaxed-simd`;
 * V8 reads the flag when it validates or compiles a module, so setting it at run time works as long as it happens
 * before the kernels compile). The engine's kernels then use fused multiply-add (wasm/module.ts: resolveSimd).
 * Called when this module loads; returns whether relaxed SIMD is available now.
 */
export function enableRelaxedSimd(): boolean {
  if (!relaxedSimdSupported()) setFlagsFromString('--experimental-wasm-relaxed-simd');
  return relaxedSimdSupported();
}
enableRelaxedSimd();

/** Starts engine workers with node:worker_threads. They are unref'd: they never keep the process alive. */
export function nodeWorkerSpawner(): WorkerSpawner {
  const source = `${WORKER_BODY}\nconst { parentPort, workerData } = require('node:worker_threads');\nstart(workerData, (m) => parentPort.postMessage(m));\n`;
  return (init) => {
    const worker = new Worker(source, { eval: true, workerData: init });
    const ready = new Promise<void>((resolve, reject) => {
      worker.on('message', (m) => {
        if (m === 'ready') {
          // Unref'd only now: until 'ready' the process must wait for it, and unref'ing before the 'message'
          // listener was added did not hold (adding the listener refs the worker's port again).
          worker.unref();
          resolve();
        }
      });
      worker.once('error', (e) => reject(new Error(`engine worker ${init.idx} failed: ${e.message}`)));
    });
    return { ready, terminate: () => void worker.terminate() };
  };
}

/** The default thread count: every core this process may use. */
export function defaultThreads(): number {
  return availableParallelism();
}

/** EngineOptions with Node's defaults: threads = every core, workers from worker_threads. */
export function nodeEngineOptions(options: EngineOptions = {}): EngineOptions {
  const threads = options.threads ?? defaultThreads();
  return { ...options, threads, ...(threads > 1 ? { spawn: options.spawn ?? nodeWorkerSpawner() } : {}) };
}

/** A WasmBackend for Node (threads default to every core). */
export function createNodeWasmBackend(config: GPT2Config, weights: GPT2Weights, options: EngineOptions = {}): Promise<WasmBackend> {
  return WasmBackend.create(config, weights, nodeEngineOptions(options));
}

/** Puts a WasmBackend (Node defaults) behind `model` and returns it: `await useNodeWasmBackend(model, { dtype: 'int8' })`. */
export async function useNodeWasmBackend(model: { config: GPT2Config; weights: GPT2Weights; backend: ForwardBackend }, options: EngineOptions = {}): Promise<WasmBackend> {
  const backend = await createNodeWasmBackend(model.config, model.weights, options);
  model.backend = backend;
  return backend;
}

/**
 * from_pretrained's `backendLoader` with Node's defaults: each tensor goes from the file (or the random generator)
 * straight into engine memory: `GPT2LMHeadModel.from_pretrained('random:gpt2', { backendLoader: nodeEngineLoader() })`.
 */
export function nodeEngineLoader(options: EngineOptions = {}): BackendLoader {
  return engineLoader(nodeEngineOptions(options));
}
