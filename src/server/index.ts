// The explorer's server (`gpt2-lens serve`): the web page from web/dist and a JSON API over one model loaded at
// start. Plain node:http; every model job waits its turn in one queue; a client that goes away cancels its job.
// What the API computes is the browser-safe ExplorerSession (src/explorer); this file is its HTTP/SSE transport,
// with the checks of who may use it (./guard.ts).
//
//   const server = createServer({ model, tokenizer });
//   const { url } = await server.listen(8080, '127.0.0.1');
import { createServer as createHttpServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { GPT2LMHeadModel } from '../model/model.js';
import { NonFiniteLogitsError } from '../model/non-finite.js';
import type { GPT2Tokenizer } from '../tokenizer/gpt2-tokenizer.js';
import { ApiError, CancelledError, jobFailure } from './errors.js';
import { ExplorerSession, type PreparedRequest } from '../explorer/session.js';
import { acceptedHosts, checkHost, checkJsonContentType, checkOrigin, parseAllowedHosts, publicModelName } from './guard.js';
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
  /** the model's name in /api/model (default model.name_or_path); a folder is shown by its base name only */
  modelName?: string;
  /**
   * Host names accepted in the Host header besides localhost, 127.0.0.1, [::1] and the address listened on
   * (`--allowed-hosts`): what a browser on the LAN types to reach this machine, e.g. `mybox.local`, `192.168.1.5`.
   */
  allowedHosts?: readonly string[];
  /** one line per request (method, path, status, milliseconds); default: silent */
  log?: (line: string) => void;
  /** one line per unexpected error (a 500, a request that could not be answered); default: `log` */
  logError?: (line: string) => void;
}

export interface ExplorerServer {
  /** the node:http server */
  readonly http: Server;
  /** the queue model jobs wait in (one runs at a time) */
  readonly queue: JobQueue;
  readonly limits: ServerLimits;
  /** the host names accepted in the Host header (set when listening; see ./guard.ts) */
  readonly acceptedHosts: ReadonlySet<string>;
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
      const e = jobFailure(err, true);
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
  '/api/attribute': { method: 'POST', handler: endpoint('attribute') },
  '/api/patch': { method: 'POST', handler: endpoint('patch') },
};

/** Builds the explorer's server (not yet listening). */
export function createServer(options: ServerOptions): ExplorerServer {
  const session = new ExplorerSession({
    model: options.model,
    tokenizer: options.tokenizer,
    limits: options.limits,
    modelName: publicModelName(options.modelName ?? options.model.name_or_path),
    yieldTurn: () => new Promise<void>((resolve) => setImmediate(resolve)),
  });
  const limits: ServerLimits = session.limits;
  const allowedHosts = parseAllowedHosts(options.allowedHosts ?? []);
  const queue = new JobQueue(limits.max_queue);
  const webRoot = options.webRoot ?? defaultWebRoot();
  const log = options.log;

  let accepted = acceptedHosts('127.0.0.1', allowedHosts);
  /** One line in the log for an unexpected error (never a stack trace for a client to provoke). */
  const logError = (line: string): void => (options.logError ?? log)?.(line);

  async function handle(req: IncomingMessage, res: ServerResponse, path: string, signal: AbortSignal): Promise<void> {
    const method = req.method ?? '';
    checkHost(req.headers, accepted);
    checkOrigin(method, req.headers);
    if (!path.startsWith('/api/')) {
      if (!serveStatic(webRoot, req, res, path)) sendJson(res, 404, { error: { message: `not found: ${path}`, param: null } });
      return;
    }
    const route = Object.hasOwn(ROUTES, path) ? ROUTES[path] : undefined;
    if (!route) throw new ApiError(`no such endpoint: ${method} ${path} (see docs/api.md)`, null, 404);
    if (method !== route.method) {
      res.setHeader('Allow', route.method);
      throw new ApiError(`${path} takes ${route.method}, not ${method}`, null, 405);
    }
    if (route.method === 'POST') checkJsonContentType(req.headers, `POST ${path}`);
    await route.handler(session, req, res, signal, queue);
  }

  const http = createHttpServer((req, res) => {
    const started = Date.now();
    // The path as sent, without query or fragment; no URL parsing that could throw on "//[" or a bad host.
    const target = req.url ?? '/';
    const cut = target.search(/[?#]/);
    const path = cut >= 0 ? target.slice(0, cut) : target;
    // A client that goes away (closed tab, aborted fetch) cancels its job: dropped from the queue, or stopped.
    const controller = new AbortController();
    req.on('error', () => controller.abort(new CancelledError()));
    res.on('error', () => controller.abort(new CancelledError()));
    res.on('close', () => {
      if (!res.writableFinished) controller.abort(new CancelledError());
      log?.(`${req.method} ${path.slice(0, 200)} ${res.statusCode}${res.writableFinished ? '' : ' (cancelled)'} ${Date.now() - started} ms`);
    });
    const work = path.startsWith('/')
      ? handle(req, res, path, controller.signal)
      : Promise.reject(new ApiError(`bad request target ${JSON.stringify(target.slice(0, 60))}: it must be a path starting with /`));
    work.catch((err: unknown) => {
      try {
        if (controller.signal.aborted || res.headersSent) {
          if (!res.writableEnded) res.end();
          return;
        }
        if (err instanceof ApiError) {
          // a body we did not read (a refused request) is drained, or the connection closed, before the next one
          if (!req.complete) {
            res.setHeader('Connection', 'close');
            req.resume();
          }
          sendError(res, err);
          return;
        }
        const message = err instanceof Error ? err.message : String(err);
        // broken weights are not a bug of the server nor of the request: logged as they are
        if (err instanceof NonFiniteLogitsError) logError(`${req.method} ${path.slice(0, 200)}: ${message}`);
        else logError(`error in ${req.method} ${path.slice(0, 200)}: ${(err instanceof Error ? `${err.name}: ` : '') + message.split('\n')[0]}`);
        sendError(res, jobFailure(err, false));
      } catch (fatal) {
        // answering failed too (a socket gone bad): give up on this request, never on the server
        logError(`error answering ${req.method} ${path.slice(0, 200)}: ${fatal instanceof Error ? fatal.message : String(fatal)}`);
        res.destroy();
      }
    });
  });

  // A request node's parser refuses (a bad request line, a header too large, random bytes) never reaches the
  // handler: answer it here, in the usual JSON, and close the connection.
  http.on('clientError', (err: NodeJS.ErrnoException, socket: Duplex) => {
    const s = socket as Socket;
    if (err.code !== 'ECONNRESET' && s.writable && s.bytesWritten === 0) {
      const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
      const why = status === 431 ? 'its headers are larger than this server accepts' : status === 408 ? 'it took too long to arrive' : `it is not valid HTTP (${err.code ?? err.message})`;
      const body = JSON.stringify({ error: { message: `bad request: ${why}`, param: null } });
      s.end(
        `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
          `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
      );
    }
    s.destroySoon();
  });

  return {
    http,
    queue,
    limits,
    get acceptedHosts() {
      return accepted;
    },
    listen(port = 8080, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        http.once('error', reject);
        http.listen(port, host, () => {
          http.off('error', reject);
          accepted = acceptedHosts(host, allowedHosts);
          const addr = http.address() as AddressInfo;
          // every interface: the page's URL uses loopback, a name this server accepts (a browser sends 0.0.0.0 as Host)
          const local = addr.address === '0.0.0.0' ? '127.0.0.1' : addr.address === '::' ? '::1' : addr.address;
          const shown = addr.family === 'IPv6' ? `[${local}]` : local;
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
