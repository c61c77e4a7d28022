// The worker's side of the message protocol (./protocol.ts): requests to an ExplorerSession, answered as the HTTP
// transport answers them. Model jobs run one at a time, in order (the session's model is one); a cancelled job is
// dropped from the line, or told to stop through its AbortSignal.
import { ApiError, CancelledError, jobFailure } from './errors.js';
import type { FromWorker, RequestMessage, CancelMessage } from './protocol.js';
import type { ExplorerSession, PreparedRequest } from './session.js';

/** The error reply for `err`, with the status and body `serve` gives it (`streamed`: after a stream had begun). */
export function errorReply(id: number, err: unknown, streamed: boolean): FromWorker {
  const e = jobFailure(err, streamed);
  return { type: 'error', id, status: streamed ? 0 : e.status, body: { error: { message: e.message, param: e.param } } };
}

/** Returns the handler of request and cancel messages; `post` sends the replies. */
export function createExplorerHost(session: ExplorerSession, post: (m: FromWorker) => void): (m: RequestMessage | CancelMessage) => void {
  const running = new Map<number, AbortController>();
  let line: Promise<void> = Promise.resolve(); // the model jobs, one after another
  let waiting = 0;

  const run = async (id: number, job: PreparedRequest, controller: AbortController): Promise<void> => {
    try {
      if (controller.signal.aborted) throw new CancelledError();
      const onEvent = job.streams ? (e: { event: 'token' | 'beam'; data: unknown }) => post({ type: 'event', id, event: e.event, body: e.data }) : undefined;
      const body = await job.run({ signal: controller.signal, onEvent });
      if (!controller.signal.aborted) post({ type: 'result', id, body });
    } catch (err) {
      if (!controller.signal.aborted) post(errorReply(id, err, job.streams));
    } finally {
      running.delete(id);
    }
  };

  return (m) => {
    if (m.type === 'cancel') {
      running.get(m.id)?.abort(new CancelledError());
      return;
    }
    const { id } = m;
    let job: PreparedRequest;
    try {
      job = session.prepare(m.method, m.body);
    } catch (err) {
      post(errorReply(id, err, false));
      return;
    }
    const controller = new AbortController();
    running.set(id, controller);
    if (!job.heavy) {
      void run(id, job, controller);
      return;
    }
    if (waiting >= session.limits.max_queue) {
      running.delete(id);
      post(errorReply(id, new ApiError(`the explorer is busy (${waiting} requests waiting); try again shortly`, null, 503), job.streams));
      return;
    }
    waiting++;
    line = line.then(() => {
      waiting--;
      return run(id, job, controller);
    });
  };
}
