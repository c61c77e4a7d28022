// The engine's public API (browser-safe): GPT-2 in WebAssembly SIMD, behind the model's backend seam.
// Node's worker threads are in src/node/threads.ts (exported from 'gpt2-lens/node'). See docs/engine.md.
export { WasmEngine, ENGINE_HOOKS, engineRunsHook, type EngineOptions, type EngineCache, type EngineForwardArgs, type EngineForwardResult, type EngineDType, type EngineTap } from './engine.js';
export { WasmBackend, useWasmBackend, engineLoader } from './backend.js';
export { browserWorkerSpawner, WORKER_BODY, type WorkerSpawner, type WorkerInit, type WorkerHandle } from './threads.js';
export { toHalfBits } from './pack.js';
