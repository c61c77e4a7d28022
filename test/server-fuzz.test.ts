// `gpt2-lens serve` (a child process, so a crash shows as its exit) under 3,000 seeded random and malformed requests
// on raw sockets: bad request lines and methods, bad percent-encoding, huge headers, random bytes, foreign or missing
// Host and Origin, bad bodies (invalid, deeply nested or oversized JSON, lying Content-Length, broken chunking).
// Afterwards it must still answer /api/model, have answered no request with a 5xx, logged no stack trace, and its
// RSS must not have kept growing between the first third and the end.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { test } from 'node:test';
import { mulberry32 } from '../src/model/random.js';
import { FIXTURE_DIR, REPO_ROOT } from './helpers/fixtures.js';
import { CLI_MAIN } from './helpers/cli.js';

const TOTAL = 3000;
const CONCURRENCY = 16;
/** a connection the server leaves open (a body it still waits for, keep-alive) is dropped after this long */
const SOCKET_MS = 1500;

/** Resident memory of process `pid` in MiB (Linux /proc; elsewhere null, and the RSS check is skipped). */
function rssMiB(pid: number): number | null {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Sends `data` on a fresh connection; resolves with the status of the answer (0: none before close or timeout). */
function send(port: number, data: Buffer): Promise<number> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    let head = '';
    let done = false;
    const finish = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      resolve(m ? Number(m[1]) : 0);
    };
    const timer = setTimeout(finish, SOCKET_MS);
    socket.on('data', (d: Buffer) => {
      if (head.length < 64) head += d.toString('latin1');
    });
    socket.on('error', finish); // a reset: the server refused to read more, which is fine
    socket.on('close', finish);
    socket.write(data);
  });
}

function generator(port: number, seed: number): () => Buffer {
  const rand = mulberry32(seed);
  const int = (n: number): number => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const H = `Host: 127.0.0.1:${port}`;
  const targets = ['//[', '//%/', '//a b/', '//host:99999/', '/%', '/%zz', '/%E0%A4%A', '/api/%ff', '/..%2f..%2fetc/passwd', '/api/model?%',
    '/api/model#x', '*', 'http://[/', '', '/\u0000x', `/${'a'.repeat(5000)}`, '/api/model/../model', '/assets/%2e%2e%2f', '/api/', '/api/next/', '/index.html'];
  const methods = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'TRACE', 'PATCH', 'PROPFIND', 'BREW', 'get', 'G ET', '', 'CONNECT', 'M-SEARCH'];
  const versions = ['HTTP/1.1', 'HTTP/1.0', 'HTTP/9.9', '', 'HTTP/1.1 extra', 'HTTP/1.1\n'];
  const endpoints = ['/api/next', '/api/tokenize', '/api/forward', '/api/generate', '/api/model', '/api/nope'];
  const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
  const bodies = (): string =>
    pick([
      '{"text": ',
      '{"text":"a"',
      'not json',
      deep(1 + int(60_000)),
      `{"text":${deep(1 + int(30_000))}}`,
      `{"input_ids":[${deep(1 + int(30_000))}]}`,
      '{"__proto__":{"top":1000},"text":"a"}',
      '{"constructor":1}',
      '{"toString":"x","text":"a"}',
      '{"text":"a","top":1e309}',
      '{"input_ids":[1e300,-1,0.5]}',
      '{"text":"\\ud800\\udfff\\ud800"}',
      `{"text":"${'x'.repeat(300_000)}"}`,
      '[1,2,3]',
      'null',
      '"text"',
      '{"text":"a","max_new_tokens":"9"}',
      '',
      Array.from({ length: 64 }, () => String.fromCharCode(int(256))).join(''),
    ]);
  const kinds: (() => string | Buffer)[] = [
    // a bad request line
    () => `${pick(methods)} ${pick(targets)} ${pick(versions)}\r\n${H}\r\nConnection: close\r\n\r\n`,
    // random percent-encoding and path characters
    () => `GET /${Array.from({ length: 1 + int(40) }, () => pick(['%', '%2', '%zz', '%00', '%ff', '/', '.', '..', 'a', '[', ']', ':', '@', '\\', '~'])).join('')} HTTP/1.1\r\n${H}\r\nConnection: close\r\n\r\n`,
    // huge headers: one long, or very many
    () =>
      rand() < 0.5
        ? `GET /api/model HTTP/1.1\r\n${H}\r\nX-Big: ${'a'.repeat(10_000 + int(60_000))}\r\nConnection: close\r\n\r\n`
        : `GET /api/model HTTP/1.1\r\n${H}\r\n${Array.from({ length: 100 + int(3000) }, (_, i) => `X-${i}: ${i}`).join('\r\n')}\r\nConnection: close\r\n\r\n`,
    // random bytes, alone or after a request line
    () => Buffer.concat([Buffer.from(rand() < 0.3 ? 'GET / HTTP/1.1\r\n' : ''), Buffer.from(Array.from({ length: 1 + int(2000) }, () => int(256)))]),
    // foreign, malformed, duplicated or missing Host; foreign Origin
    () => {
      const host = pick(['Host: evil.example', 'Host: ', 'Host: localhost:99999', 'Host: [::1', `Host: ${'a'.repeat(300)}`, 'Host: 127.0.0.1:80:80', `${H}\r\nHost: evil.example`, '']);
      const origin = pick(['', 'Origin: http://evil.example\r\n', 'Origin: null\r\n', 'Origin: \u00ff\r\n']);
      return `${pick(['GET', 'POST'])} ${pick(endpoints)} HTTP/1.1\r\n${host}\r\n${origin}Content-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{"text":"a"}`;
    },
    // bad bodies, content types and framing
    () => {
      const body = bodies();
      const type = pick(['Content-Type: application/json\r\n', 'Content-Type: application/json\r\n', 'Content-Type: text/plain\r\n', '', 'Content-Type: \r\n']);
      const len = Buffer.byteLength(body, 'latin1');
      const framing = pick([
        `Content-Length: ${len}\r\n`,
        `Content-Length: ${len}\r\n`,
        `Content-Length: ${Math.max(0, len - 1 - int(10))}\r\n`, // shorter: the rest reads as a next request
        `Content-Length: ${len + 1 + int(10)}\r\n`, // longer: the server waits for bytes that never come
        'Content-Length: -1\r\n',
        'Content-Length: abc\r\n',
        `Content-Length: ${len}\r\nContent-Length: ${len + 1}\r\n`,
        `Content-Length: ${len}\r\nTransfer-Encoding: chunked\r\n`,
        'Transfer-Encoding: chunked\r\n',
        'Content-Length: 99999999999\r\n',
      ]);
      const payload = framing === 'Transfer-Encoding: chunked\r\n' && rand() < 0.5 ? `${len.toString(16)}\r\n${body}\r\n0\r\n\r\n` : body;
      return Buffer.from(`POST ${pick(endpoints)} HTTP/1.1\r\n${H}\r\n${type}${framing}Connection: close\r\n\r\n${payload}`, 'latin1');
    },
    // valid requests now and then
    () =>
      rand() < 0.5
        ? `GET /api/model HTTP/1.1\r\n${H}\r\nConnection: close\r\n\r\n`
        : `POST /api/tokenize HTTP/1.1\r\n${H}\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{"text":"a b"}`,
  ];
  return () => {
    const r = pick(kinds)();
    return typeof r === 'string' ? Buffer.from(r, 'utf8') : r;
  };
}

test(`serve survives ${TOTAL} random and malformed requests and does not grow`, { timeout: 300_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI_MAIN, 'serve', '--model', FIXTURE_DIR, '--port', '0', '--reference', '-q'], { cwd: REPO_ROOT });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let exit: number | null | undefined;
  child.once('exit', (code, signal) => (exit = code ?? (signal ? -1 : null)));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve did not start in 60 s: ${stderr}`)), 60_000);
      const poll = setInterval(() => {
        const m = /open (http:\/\/\S+)/.exec(stderr);
        if (m || exit !== undefined) {
          clearInterval(poll);
          clearTimeout(timer);
          if (m) resolve(m[1]!);
          else reject(new Error(`serve exited: ${stderr}`));
        }
      }, 20);
    });
    const port = Number(new URL(url).port);
    const next = generator(port, 20240610);
    const statuses = new Map<number, number>();
    const rss: (number | null)[] = [];
    let sent = 0;
    const round = async (n: number): Promise<void> => {
      const end = sent + n;
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (sent < end && exit === undefined) {
            sent++;
            const status = await send(port, next());
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
          }
        }),
      );
      rss.push(rssMiB(child.pid!));
    };
    for (let i = 0; i < 3; i++) await round(TOTAL / 3);

    assert.equal(exit, undefined, `serve exited (${exit}) after ${sent} requests: ${stderr.slice(-2000)}`);
    assert.equal(sent, TOTAL);
    const res = await fetch(new URL('/api/model', url));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { n_params: number }).n_params, 3_382_080);

    const seen = Object.fromEntries([...statuses].sort((a, b) => a[0] - b[0]));
    console.log(`statuses: ${JSON.stringify(seen)}; RSS MiB after each third: ${rss.map((r) => r?.toFixed(1)).join(', ')}`);
    assert.deepEqual([...statuses.keys()].filter((s) => s >= 500), [], `no request may be a 5xx: ${JSON.stringify(seen)}`);
    // every class of refusal was reached, so the requests exercised what they claim to
    for (const s of [200, 400, 403, 404, 405, 415, 431]) assert.ok((statuses.get(s) ?? 0) > 0, `no ${s} among ${JSON.stringify(seen)}`);
    assert.doesNotMatch(stderr, /\n\s+at /, 'no stack trace in the log');
    assert.doesNotMatch(stderr, /error in|error answering/, 'no unexpected error');
    if (rss[0] != null && rss[2] != null) {
      assert.ok(rss[2] - rss[0] < 64, `RSS grew from ${rss[0].toFixed(1)} MiB to ${rss[2].toFixed(1)} MiB over the last ${(2 * TOTAL) / 3} requests`);
    }
  } finally {
    if (exit === undefined) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
  }
});
