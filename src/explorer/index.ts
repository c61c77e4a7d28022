// The explorer's API, browser-safe: the session that computes it, its two transports' clients, and the worker protocol.
export { ExplorerSession, EXPLORER_METHODS, type ExplorerMethod, type ExplorerSessionOptions, type PreparedRequest, type RunOptions } from './session.js';
export type { ExplorerEvent } from './generate.js';
export { DEFAULT_LIMITS } from './limits.js';
export { ApiError, CancelledError } from './errors.js';
export { ApiCallError, isAbort, type ExplorerApi, type StreamHandlers } from './api.js';
export { HttpExplorerClient } from './http-client.js';
export { WorkerExplorerClient } from './worker-client.js';
export { createExplorerHost } from './host.js';
export { serveExplorer, sessionFromInit } from './worker.js';
export type { InitMessage, RequestMessage, CancelMessage, ToWorker, FromWorker, MessageEndpoint, TokenizerFiles, WorkerRuntime } from './protocol.js';
export type * from './types.js';
