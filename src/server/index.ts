// The explorer's server (`gpt2-lens serve`): the web page from web/dist and a JSON API over one model loaded at
// start. Plain node:http; every model job waits its turn in one queue; a client that goes away cancels its job.
// What the API computes is the browser-safe ExplorerSession (src/explorer); this file is its HTTP/SSE transport.
//
//   const server = createServer({ model, tokenizer });
//   const { url } = await server.listen(8080, '127.0.0.1');
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GPT2LMHeadModel } from '../model/model.js';
import type { GPT2Tokenizer } from '../tokenizer/gpt2-tokenizer.js';
import { ApiError, CancelledError } from './errors.js';
import { ExplorerSession, type PreparedRequest } from '../explorer/session.js';
import { EventStream, readJsonBody, sendError, sendJson } from './http.js';
import { JobQueue } from './queue.js';
import { defaultWebRoot, serveStatic } from './static.js';
import type { ServerLimits } from './types.js';

export type { ServerLimits } from './types.js';
export { DEFAULT_LIMITS } from '../explorer/limits.js';
export { JobQueue } from './queue.js';
export { ApiError } from './errors.js';
export { ExplorerSession } from '../explorer/session.js';

export interface ServerOptions {
  model: GPT2LMHeadModel;
  tokenizer: GPT2Tokenizer;
  /** overrides of DEFAULT_LIMITS */
  limits?: Partial<ServerLimits>;
  /** the folder of the built page (default: the package's web/dist) */
  webRoot?: string;
  /** the model's name in /api/model (default model.name_or_path) */
  modelName?: string;
  /** one line per request (method, path, status, milliseconds); default: silent */
  log?: (line: string) => void;
}

export interface ExplorerServer {
  /** the node:http server */
  readonly http: Server;
  /** the queue model jobs wait in (one runs at a time) */
  readonly queue: JobQueue;
  readonly limits: ServerLimits;
  /** starts listening (port 0 picks a free port); resolves with the address and the page's URL */
  listen(port?: number, host?: string): Promise<{ port: number; host: string; url: string }>;
  /** stops accepting connections and closes the open ones */
  close(): Promise<void>;
}

type Handler = (session: ExplorerSession, req: IncomingMessage, res: ServerResponse, signal: AbortSignal, queue: JobQueue) => Promise<void>;

/**
 * An endpoint over the session: the body read and checked (a 400 before anything runs), then the job, inside the
 * queue when it uses the model. With `stream: true` (generate), its events go out as Server-Sent Events:
 * `event: token|beam`, then `event: done` with the answer, or `event: error` with {"error":{"message","param"}}.
 */
function endpoint(method: string): Handler {
  return async (session, req, res, signal, queue) => {
    const body = method === 'model' ? undefined : await readJsonBody(req, session.limits.max_body_bytes);
    const job: PreparedRequest = session.prepare(method, body);
    if (!job.streams) {
      const result = job.heavy ? await queue.run((s) => job.run({ signal: s }), signal) : await job.run({ signal });
      sendJson(res, 200, result);
      return;
    }
    const sse = new EventStream(res);
    try {
      const done = await queue.run((s) => job.run({ signal: s, onEvent: (e) => sse.send(e.event, e.data) }), signal);
      sse.send('done', done);
    } catch (err) {
      if (signal.aborted) return; // nobody is listening
      const e = err instanceof ApiError ? err : new ApiError(`generation failed: ${err instanceof Error ? err.message : String(err)}`, null, 500);
      sse.send('error', { error: { message: e.message, param: e.param } });
    } finally {
      sse.end();
    }
  };
}

const ROUTES: Record<string, { method: 'GET' | 'POST'; handler: Handler }> = {
  '/api/model': { method: 'GET', handler: endpoint('model') },
  '/api/tokenize': { method: 'POST', handler: endpoint('tokenize') },
  '/api/next': { method: 'POST', handler: endpoint('next') },
  '/api/forward': { method: 'POST', handler: endpoint('forward') },
  '/api/generate': { method: 'POST', handler: endpoint('generate') },
};

/** Builds the explorer's server (not yet listening). */
export function createServer(options: ServerOptions): ExplorerServer {
  const session = new ExplorerSession({
    model: options.model,
    tokenizer: options.tokenizer,
    limits: options.limits,
    modelName: options.modelName ?? options.model.name_or_path,
    yieldTurn: () => new Promise<void>((resolve) => setImmediate(resolve)),
  });
  const limits: ServerLimits = session.limits;
  const queue = new JobQueue(limits.max_queue);
  const webRoot = options.webRoot ?? defaultWebRoot();
  const log = options.log;

  const http = createHttpServer((req, res) => {
    const started = Date.now();
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname;
    // A client that goes away (closed tab, aborted fetch) cancels its job: dropped from the queue, or stopped.
    const controller = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new CancelledError());
      log?.(`${req.method} ${path} ${res.statusCode}${res.writableFinished ? '' : ' (cancelled)'} ${Date.now() - started} ms`);
    });

    if (!path.startsWith('/api/')) {
      if (!serveStatic(webRoot, req, res, path)) sendJson(res, 404, { error: { message: `not found: ${path}`, param: null } });
      return;
    }
    const route = ROUTES[path];
    if (!route) {
      sendJson(res, 404, { error: { message: `no such endpoint: ${req.method} ${path} (see docs/api.md)`, param: null } });
      return;
    }
    if (req.method !== route.method) {
      res.setHeader('Allow', route.method);
      sendJson(res, 405, { error: { message: `${path} takes ${route.method}, not ${req.method}`, param: null } });
      return;
    }
    route.handler(session, req, res, controller.signal, queue).catch((err: unknown) => {
      if (controller.signal.aborted || res.headersSent) {
        if (!res.writableEnded) res.end();
        return;
      }
      if (err instanceof ApiError) {
        if (err.message.startsWith('the request body is larger')) res.setHeader('Connection', 'close');
        sendError(res, err);
        return;
      }
      log?.(`error in ${path}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      sendJson(res, 500, { error: { message: `internal error: ${err instanceof Error ? err.message : String(err)}`, param: null } });
    });
  });

  return {
    http,
    queue,
    limits,
    listen(port = 8080, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          const addr = http.address() as AddressInfo;
          const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
          resolve({ port: addr.port, host: addr.address, url: `http://${shown}:${addr.port}/` });
        });
      });
    },
    close() {
      return new Promise((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
