// Small HTTP helpers: read a JSON body with a size limit, answer JSON, and stream Server-Sent Events.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, errorBody } from './errors.js';
import { SECURITY_HEADERS } from './static.js';

/** Reads the request body as JSON. Beyond `maxBytes` → 400 (the rest is drained and dropped). Empty body → {}. */
export function readJsonBody(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    const tooLarge = (): ApiError => new ApiError(`the request body is larger than this server's limit of ${maxBytes} bytes`);
    if (Number.isFinite(declared) && declared > maxBytes) {
      req.resume(); // drain, so the 400 reaches a client still sending
      reject(tooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let failed = false;
    req.on('data', (chunk: Buffer) => {
      if (failed) return;
      size += chunk.length;
      if (size > maxBytes) {
        failed = true;
        chunks.length = 0;
        reject(tooLarge());
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', (err) => {
      if (!failed) reject(err);
    });
    req.on('end', () => {
      if (failed) return;
      const text = Buffer.concat(chunks).toString('utf8');
      if (text.trim() === '') {
        resolve({});
        return;
      }
      try {
        resolve(JSON.parse(text));
      } catch (err) {
        reject(new ApiError(`the request body is not valid JSON: ${(err as Error).message}`));
      }
    });
  });
}

/** Sends `body` as JSON with the given status. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
    'Cache-Control': 'no-store',
    ...SECURITY_HEADERS,
  });
  res.end(text);
}

/** Sends an ApiError as `{"error":{"message","param"}}` with its status (400 unless said otherwise). */
export function sendError(res: ServerResponse, err: ApiError): void {
  sendJson(res, err.status, errorBody(err));
}

/** A Server-Sent Events stream: `event: NAME` + `data: JSON` per event. */
export class EventStream {
  constructor(private readonly res: ServerResponse) {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // tell a proxy in front not to buffer the stream
      ...SECURITY_HEADERS,
    });
    res.flushHeaders();
  }

  /** Whether the client is still there. */
  get open(): boolean {
    return !this.res.destroyed && !this.res.writableEnded;
  }

  send(event: string, data: unknown): void {
    if (!this.open) return;
    // JSON.stringify never emits a raw newline, so one data: line carries the whole event.
    this.res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  }

  end(): void {
    if (this.open) this.res.end();
  }
}
