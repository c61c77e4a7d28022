// The messages between a page and an ExplorerSession in a Web Worker: the HTTP API's requests and answers, carried
// by postMessage (structured clone) instead of HTTP.
//
//   page → worker   {type:'init', model, tokenizer}                  load the model once
//                   {type:'request', id, method, body}               method: model|tokenize|next|forward|generate|attribute|patch
//                   {type:'cancel', id}                              the caller gave up (an aborted fetch)
//   worker → page   {type:'ready', info} | {type:'init-error', message}
//                   {type:'event', id, event:'token'|'beam', body}   generate with stream: true, as it goes
//                   {type:'result', id, body}                        the answer: the HTTP API's JSON
//                   {type:'error', id, status, body}                 body: {"error":{"message","param"}}, as HTTP's
//
// `status` is the HTTP status `serve` answers the same error with (400 a bad request, 404 no such method, 503 busy,
// 500 a failure), or 0 when a stream had already begun (over HTTP: an `event: error` after a 200).
import type { EngineDType } from '../engine/engine.js';
import type { PretrainedFiles } from '../model/model.js';
import type { TokenizerConfig } from '../tokenizer/gpt2-tokenizer.js';
import type { ExplorerMethod } from './session.js';
import type { ApiErrorBody, ModelInfo, ServerLimits } from './types.js';

/** The tokenizer's files: vocab.json (parsed) + merges.txt, or tokenizer.json (parsed). */
export type TokenizerFiles =
  | { vocab: Record<string, number>; merges: string; config?: TokenizerConfig }
  | { tokenizer_json: unknown; config?: TokenizerConfig };

export interface InitMessage {
  type: 'init';
  /** a `random:` spec (random:gpt2, random:64x2x4@7), or the model's files (config, weights' bytes, ...) */
  model: string | PretrainedFiles;
  tokenizer: TokenizerFiles;
  /** the name model() reports (default: the spec or files' name_or_path) */
  modelName?: string;
  limits?: Partial<ServerLimits>;
  /**
   * Run forward passes in the WebAssembly engine (default: the readable reference path): its dtype, and its thread
   * count (> 1 needs a cross-origin isolated page: the threads are Web Workers over one SharedArrayBuffer).
   */
  engine?: { dtype?: EngineDType; threads?: number };
}

/** What computes the session in the worker, from its ready message. */
export interface WorkerRuntime {
  /** the model's backend, e.g. "wasm simd (fp16, 4 threads)" or "reference" */
  backend: string;
  /** bytes of weights packed in the engine's memory (0 on the reference path) */
  engineBytes: number;
  /** the engine's whole WebAssembly memory (weights, caches, scratch) */
  memoryBytes: number;
}

export interface RequestMessage {
  type: 'request';
  id: number;
  method: ExplorerMethod;
  /** the HTTP request's JSON body (none for model) */
  body?: unknown;
}

export interface CancelMessage {
  type: 'cancel';
  id: number;
}

export type ToWorker = InitMessage | RequestMessage | CancelMessage;

export type FromWorker =
  | { type: 'ready'; info: ModelInfo; runtime?: WorkerRuntime }
  | { type: 'init-error'; message: string }
  | { type: 'event'; id: number; event: 'token' | 'beam'; body: unknown }
  | { type: 'result'; id: number; body: unknown }
  | { type: 'error'; id: number; status: number; body: ApiErrorBody };

/** What both ends of the channel look like: a Worker, a worker's global scope, a MessagePort. */
export interface MessageEndpoint {
  postMessage(message: unknown, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: { data: unknown }) => void): void;
}
