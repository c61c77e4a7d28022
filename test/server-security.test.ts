// The server under hostile input: requests node's URL parser chokes on, other sites (Host, Origin, Content-Type),
// field names from Object.prototype, JSON nested 100,000 deep, an error inside a handler. None may end the process;
// each gets the usual JSON error with its exact message. Requests are written on raw sockets where fetch would
// clean them up first.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import '../src/node/model.js';
import { GPT2LMHeadModel } from '../src/model/index.js';
import type { CausalLMOutput, ForwardInputs } from '../src/model/types.js';
import { AutoTokenizer } from '../src/node/tokenizer.js';
import type { GPT2Tokenizer } from '../src/tokenizer/index.js';
import { createServer, type ExplorerServer } from '../src/server/index.js';
import { acceptedHosts, hostHeaderName, parseAllowedHosts, publicModelName } from '../src/server/guard.js';
import type { ModelInfo } from '../src/server/types.js';
import { FIXTURE_DIR } from './helpers/fixtures.js';

let model: GPT2LMHeadModel;
let tokenizer: GPT2Tokenizer;
let server: ExplorerServer;
let port: number;
let base: string;
const logged: string[] = [];

before(async () => {
  model = await GPT2LMHeadModel.from_pretrained(FIXTURE_DIR);
  tokenizer = await AutoTokenizer.from_pretrained(FIXTURE_DIR);
  server = createServer({ model, tokenizer, allowedHosts: ['mybox.local', '192.168.1.5'], logError: (l) => logged.push(l) });
  const addr = await server.listen(0);
  port = addr.port;
  base = addr.url;
});
after(() => server.close());

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** Writes `request` as it is on a fresh connection and reads the whole answer (the server closes, or 5 s pass). */
function raw(request: string | Buffer, p = port): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(p, '127.0.0.1');
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on('data', (d) => chunks.push(d));
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(text);
      if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const split = text.indexOf('\r\n\r\n');
      resolve({ status: Number(m[1]), headers: text.slice(0, split), body: text.slice(split + 4) });
    });
    socket.write(request);
  });
}

/** A request with `Connection: close`, the given head lines, and an optional JSON body. */
function req(line: string, headers: string[] = [`Host: 127.0.0.1:${port}`], body?: string): Promise<RawResponse> {
  const lines = [line, ...headers, 'Connection: close'];
  if (body !== undefined) lines.push(`Content-Length: ${Buffer.byteLength(body)}`);
  return raw(`${lines.join('\r\n')}\r\n\r\n${body ?? ''}`);
}

function errorOf(r: RawResponse): { message: string; param: string | null } {
  return (JSON.parse(r.body) as { error: { message: string; param: string | null } }).error;
}

async function stillServing(): Promise<void> {
  const res = await fetch(new URL('/api/model', base));
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as ModelInfo).n_params, 3_382_080);
}

async function postJson(path: string, body: string, headers: Record<string, string> = {}): Promise<{ status: number; json: { error: { message: string; param: string | null } } }> {
  const res = await fetch(new URL(path, base), { method: 'POST', headers: { 'Content-Type': 'application/json', ...headers }, body });
  return { status: res.status, json: (await res.json()) as { error: { message: string; param: string | null } } };
}

describe('no request ends the process', () => {
  test('request targets that new URL() throws on, bad percent-encoding, absolute and asterisk forms', async () => {
    const cases: [target: string, status: number][] = [
      ['//[', 404],
      ['//%/', 404],
      ['//host:99999/', 404],
      ['//[/api/model', 404],
      ['/%E0%A4%A', 404],
      ['/%%%%', 404],
      ['/api/%00', 404],
      ['/%2e%2e/%2e%2e/etc/passwd', 404],
      ['*', 400],
      ['http://[/', 400],
    ];
    for (const [target, status] of cases) {
      const r = await req(`GET ${target} HTTP/1.1`);
      assert.equal(r.status, status, target);
      assert.match(r.headers, /content-type: application\/json/i, target);
      assert.ok(typeof errorOf(r).message === 'string', target);
    }
    assert.equal(errorOf(await req('GET * HTTP/1.1')).message, 'bad request target "*": it must be a path starting with /');
    await stillServing();
  });

  test('what the HTTP parser refuses is a 400 (431 for huge headers) in JSON, and the connection closes', async () => {
    const bad = await raw('GET //a b/ HTTP/1.1\r\nHost: x\r\n\r\n');
    assert.equal(bad.status, 400);
    assert.match(errorOf(bad).message, /^bad request: it is not valid HTTP \(HPE_/);
    const huge = await raw(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(40_000)}\r\n\r\n`);
    assert.equal(huge.status, 431);
    assert.equal(errorOf(huge).message, 'bad request: its headers are larger than this server accepts');
    assert.equal((await raw(Buffer.from([0x16, 0x03, 0x01, 0x00, 0xff, 0x01, 0x00, 0x00]))).status, 400); // a TLS hello
    await stillServing();
  });

  test('an unexpected error in a handler is a 500 in JSON and one line in the log; the server goes on', async () => {
    class Broken extends GPT2LMHeadModel {
      override async forward(_inputs: ForwardInputs): Promise<CausalLMOutput> {
        throw new TypeError('something inside broke\n    at a stack frame');
      }
    }
    const lines: string[] = [];
    const broken = createServer({ model: await Broken.from_pretrained(FIXTURE_DIR), tokenizer, logError: (l) => lines.push(l) });
    const url = (await broken.listen(0)).url;
    try {
      const res = await fetch(new URL('/api/next', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"text":"a"}' });
      assert.equal(res.status, 500);
      assert.deepEqual(await res.json(), { error: { message: 'internal error: something inside broke\n    at a stack frame', param: null } });
      assert.deepEqual(lines, ['error in POST /api/next: TypeError: something inside broke']);
      assert.equal((await fetch(new URL('/api/model', url))).status, 200);
    } finally {
      await broken.close();
    }
  });
});

describe('Host: only names of this server (DNS rebinding)', () => {
  test('loopback names, with or without the port, and --allowed-hosts are accepted', async () => {
    for (const host of [`127.0.0.1:${port}`, 'localhost', `LOCALHOST:${port}`, `[::1]:${port}`, 'mybox.local', `192.168.1.5:${port}`, 'localhost.']) {
      assert.equal((await req('GET /api/model HTTP/1.1', [`Host: ${host}`])).status, 200, host);
    }
  });

  test('any other Host is a 403 naming what is accepted', async () => {
    const accepted = 'localhost, 127.0.0.1, [::1], mybox.local, 192.168.1.5';
    for (const host of ['evil.example', `evil.example:${port}`, 'mybox.local.evil.example', '127.0.0.2', 'localhost:99999', 'a b']) {
      const r = await req('GET /api/model HTTP/1.1', [`Host: ${host}`]);
      assert.equal(r.status, 403, host);
      assert.deepEqual(errorOf(r), {
        message: `Host ${JSON.stringify(host)} is not a name of this server; it accepts ${accepted} (start it with --allowed-hosts NAME to add one)`,
        param: null,
      });
    }
    // the page too, not only the API
    assert.equal((await req('GET / HTTP/1.1', ['Host: evil.example'])).status, 403);
    const none = await req('GET /api/model HTTP/1.0', []);
    assert.equal(none.status, 403);
    assert.equal(errorOf(none).message, 'the request has no Host header; this server answers only requests that name it');
  });

  test('the rule: loopback names, the address listened on unless it is every interface, and the allowed names', () => {
    assert.deepEqual([...acceptedHosts('0.0.0.0', [])], ['localhost', '127.0.0.1', '[::1]']);
    assert.deepEqual([...acceptedHosts('::', ['mybox.local'])], ['localhost', '127.0.0.1', '[::1]', 'mybox.local']);
    assert.deepEqual([...acceptedHosts('192.168.1.5', [])], ['localhost', '127.0.0.1', '[::1]', '192.168.1.5']);
    assert.deepEqual([...acceptedHosts('fe80::1', [])], ['localhost', '127.0.0.1', '[::1]', '[fe80::1]']);
    assert.equal(hostHeaderName('[::1]:8080'), '[::1]');
    assert.equal(hostHeaderName('Example.COM:80'), 'example.com');
    assert.equal(hostHeaderName('example.com:'), null);
    assert.equal(hostHeaderName('example.com:123456'), null);
    assert.deepEqual(parseAllowedHosts(['MyBox.local', '', '::1', '10.0.0.7']), ['mybox.local', '[::1]', '10.0.0.7']);
    assert.throws(() => parseAllowedHosts(['http://mybox.local']), {
      message: 'allowed host "http://mybox.local" is not a host name or IP address (give names such as mybox.local or 192.168.1.5, without scheme or port)',
    });
    assert.throws(() => parseAllowedHosts(['mybox.local:8080']), /allowed host "mybox.local:8080" is not a host name/);
  });
});

describe('Origin and Content-Type: no cross-site requests', () => {
  test('a POST from another origin is a 403; same origin or no Origin (curl) is served', async () => {
    for (const origin of ['http://evil.example', `http://evil.example:${port}`, 'null', `http://localhost:${port}`, 'https://127.0.0.1', 'garbage']) {
      const r = await postJson('/api/tokenize', '{"text":"a"}', { Origin: origin });
      assert.equal(r.status, 403, origin);
      assert.equal(r.json.error.message, `cross-origin request refused: Origin ${JSON.stringify(origin)} is not this server`);
    }
    assert.equal((await postJson('/api/tokenize', '{"text":"a"}', { Origin: `http://127.0.0.1:${port}` })).status, 200);
    assert.equal((await postJson('/api/tokenize', '{"text":"a"}')).status, 200);
    // a GET with a foreign Origin (an <img>, a script tag) may still be read by no one but the page: allowed
    const get = await fetch(new URL('/api/model', base), { headers: { Origin: 'http://evil.example' } });
    assert.equal(get.status, 200);
    // other methods too
    const del = await req('DELETE /api/model HTTP/1.1', [`Host: 127.0.0.1:${port}`, 'Origin: http://evil.example']);
    assert.equal(del.status, 403);
  });

  test('a JSON endpoint needs Content-Type: application/json (a text/plain "simple request" is a 415)', async () => {
    for (const [type, status] of [
      ['text/plain;charset=UTF-8', 415],
      ['application/x-www-form-urlencoded', 415],
      ['multipart/form-data; boundary=x', 415],
      ['application/jsonp', 415],
      ['application/json', 200],
      ['Application/JSON; charset=utf-8', 200],
    ] as const) {
      const res = await fetch(new URL('/api/tokenize', base), { method: 'POST', headers: { 'Content-Type': type }, body: '{"text":"a"}' });
      assert.equal(res.status, status, type);
      if (status === 415) {
        assert.deepEqual(await res.json(), {
          error: { message: `POST /api/tokenize takes a JSON body: send Content-Type: application/json, not ${JSON.stringify(type)}`, param: null },
        });
      } else await res.body?.cancel();
    }
    const none = await req('POST /api/tokenize HTTP/1.1', [`Host: 127.0.0.1:${port}`], '{"text":"a"}');
    assert.equal(none.status, 415);
    assert.equal(errorOf(none).message, 'POST /api/tokenize takes a JSON body: send Content-Type: application/json');
    await stillServing();
  });
});

describe('untrusted JSON', () => {
  test('fields named after Object.prototype members are unknown fields', async () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__']) {
      const r = await postJson('/api/tokenize', `{"text":"a",${JSON.stringify(name)}:1}`);
      assert.equal(r.status, 400, name);
      assert.deepEqual(r.json.error, { message: `unknown field "${name}"; this endpoint takes: text`, param: name });
    }
    const r = await postJson('/api/next', '{"text":"a","__proto__":{"top":1000}}');
    assert.equal(r.json.error.param, '__proto__');
  });

  test('JSON nested 100,000 deep is a 400 that describes it, not a stack overflow', async () => {
    const deep = (n: number): string => '['.repeat(n) + ']'.repeat(n);
    const big = createServer({ model, tokenizer, limits: { max_body_bytes: 1 << 20 }, logError: (l) => logged.push(l) });
    const url = (await big.listen(0)).url;
    try {
      const post = async (body: string): Promise<{ status: number; json: unknown }> => {
        const res = await fetch(new URL('/api/next', url), { method: 'POST', headers: { 'Content-Type': 'application/json' }, body });
        return { status: res.status, json: await res.json() };
      };
      assert.deepEqual(await post(deep(100_000)), { status: 400, json: { error: { message: 'the request body must be a JSON object, got a list of 1 item', param: null } } });
      assert.deepEqual(await post(`{"text":${deep(100_000)}}`), { status: 400, json: { error: { message: '"text" must be a string, got a list of 1 item', param: 'text' } } });
      assert.deepEqual(await post(`{"input_ids":[1,${deep(100_000)}]}`), {
        status: 400,
        json: { error: { message: '"input_ids[1]" must be an integer, got a list of 1 item', param: 'input_ids' } },
      });
      assert.deepEqual(await post(`{"top":{"a":${deep(100_000)}}}`), { status: 400, json: { error: { message: '"top" must be an integer, got an object', param: 'top' } } });
      const unclosed = await post('['.repeat(100_000));
      assert.equal(unclosed.status, 400);
      assert.match((unclosed.json as { error: { message: string } }).error.message, /^the request body is not valid JSON: /);
    } finally {
      await big.close();
    }
    assert.deepEqual(logged, [], 'nothing reached the error log');
  });
});

describe('/api/model names the model, never a path of this machine', () => {
  test('a folder by its base name; Hub ids and random: specs as given', async () => {
    const folder = createServer({ model, tokenizer }); // name_or_path: the fixture's absolute path
    const url = (await folder.listen(0)).url;
    try {
      assert.ok(model.name_or_path.startsWith('/'), model.name_or_path);
      const info = (await (await fetch(new URL('/api/model', url))).json()) as ModelInfo;
      assert.equal(info.model, 'gpt2-tiny');
    } finally {
      await folder.close();
    }
    assert.equal(publicModelName(FIXTURE_DIR), 'gpt2-tiny');
    assert.equal(publicModelName('/home/someone/models/my-gpt2/'), 'my-gpt2');
    assert.equal(publicModelName('./models/my-gpt2'), 'my-gpt2');
    assert.equal(publicModelName('openai-community/gpt2'), 'openai-community/gpt2');
    assert.equal(publicModelName('random:64x2x4@7'), 'random:64x2x4@7');
  });
});
