// One model job at a time. GPT-2 on a small machine uses every core for one forward pass; two requests computed at
// once would each take twice as long and thrash the caches, so requests wait their turn in a FIFO queue.
// A request whose client goes away is dropped from the queue, or, when it is running, told to stop through its
// AbortSignal (generation checks it between steps).
import { ApiError, CancelledError } from './errors.js';

export type Job<T> = (signal: AbortSignal) => Promise<T> | T;

interface Waiting {
  start: () => void;
  signal: AbortSignal;
}

export class JobQueue {
  private running = false;
  private readonly waiting: Waiting[] = [];

  /** @param maxWaiting requests allowed to wait behind the running one; more get a 503 "busy" error. */
  constructor(readonly maxWaiting: number = 64) {}

  /** Jobs waiting (not counting the running one). */
  get pending(): number {
    return this.waiting.length;
  }

  /** Whether a job is running now. */
  get busy(): boolean {
    return this.running;
  }

  /**
   * Runs `job` once every job queued before it has finished. Rejects with CancelledError when `signal` aborts before
   * the job starts; once started, the job itself watches the signal.
   */
  async run<T>(job: Job<T>, signal: AbortSignal): Promise<T> {
    if (signal.aborted) throw new CancelledError();
    if (this.running) {
      if (this.waiting.length >= this.maxWaiting) {
        throw new ApiError(`the server is busy (${this.waiting.length} requests waiting); try again shortly`, null, 503);
      }
      await new Promise<void>((resolve, reject) => {
        const entry: Waiting = {
          signal,
          start: () => {
            signal.removeEventListener('abort', onAbort);
            resolve();
          },
        };
        const onAbort = (): void => {
          const i = this.waiting.indexOf(entry);
          if (i >= 0) this.waiting.splice(i, 1);
          reject(new CancelledError());
        };
        signal.addEventListener('abort', onAbort, { once: true });
        this.waiting.push(entry);
      });
    }
    // Here this job owns the model: either nothing was running, or next() handed the turn to it.
    this.running = true;
    try {
      // A forward pass blocks the event loop; let the I/O that waited meanwhile run first (a client that left
      // while this job was queued is only noticed then).
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (signal.aborted) throw new CancelledError();
      return await job(signal);
    } finally {
      this.next();
    }
  }

  private next(): void {
    const entry = this.waiting.shift();
    if (entry) entry.start();
    else this.running = false;
  }
}
