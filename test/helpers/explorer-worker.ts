// The explorer's worker (src/explorer/worker.ts) in a node:worker_threads thread: the same code a page runs in a Web
// Worker, its messages structured-cloned across threads. The parent port stands in for the worker's global scope.
import { parentPort } from 'node:worker_threads';
import { serveExplorer } from '../../src/explorer/worker.js';

const port = parentPort!;
serveExplorer({
  postMessage: (m) => port.postMessage(m),
  addEventListener: (_type, listener) => port.on('message', (data: unknown) => listener({ data })),
});
