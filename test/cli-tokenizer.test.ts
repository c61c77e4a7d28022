// The tokenizer's CLI commands, run as a user runs them: a child process per call (node + tsx on src/cli/main.ts,
// the repository root as cwd). Each spawn costs about a second, so the cases are grouped into few calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runCli } from './helpers/cli.js';

const cli = runCli;

test('tokenize --json prints exactly ids and tokens with text, bytes and UTF-16 offsets', () => {
  const r = cli(['tokenize', '--json', 'The theory 😀']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    '{"ids":[464,4583,30325,222],"tokens":[' +
      '{"id":464,"text":"The","bytes":[84,104,101],"start":0,"end":3},' +
      '{"id":4583,"text":" theory","bytes":[32,116,104,101,111,114,121],"start":3,"end":10},' +
      '{"id":30325,"text":" \ufffd","bytes":[32,240,159,152],"start":10,"end":13},' +
      '{"id":222,"text":"\ufffd","bytes":[128],"start":11,"end":13}]}\n',
  );
});

test('tokenize reads stdin exactly and prints a readable table', () => {
  const r = cli(['tokenize'], 'Hi  there\n\t<|endoftext|>');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(
    r.stdout,
    [
      '"Hi  there\\n\\t<|endoftext|>" → 6 tokens',
      '',
      '    #      id  token          start-end    bytes',
      '    0   17250  Hi             0-2          48 69',
      '    1     220  ·              2-3          20',
      '    2     612  ·there         3-9          20 74 68 65 72 65',
      '    3     198  ↵              9-10         0a',
      '    4     197  →              10-11        09',
      '    5   50256  <|endoftext|>  11-24        3c 7c 65 6e 64 6f 66 74 65 78 74 7c 3e',
      '',
    ].join('\n'),
  );
});

test('decode: text and --json with HF\'s default clean-up; vocab: substring and --json', () => {
  const d = cli(['decode', '464', '4583,286', '44449', '318', '13']);
  assert.equal(d.code, 0, d.stderr);
  assert.equal(d.stdout, 'The theory of relativity is.\n');
  const j = cli(['decode', '--json', '15496', '837', '995', '5145', '50256']);
  assert.equal(j.stdout, '{"text":"Hello, world!<|endoftext|>"}\n');
  const v = cli(['vocab', '--json', '--limit', '3', 'relativ']);
  assert.equal(v.code, 0, v.stderr);
  assert.deepEqual(JSON.parse(v.stdout), {
    count: 5,
    tokens: [
      { id: 3585, token: 'Ġrelative', text: ' relative' },
      { id: 5365, token: 'Ġrelatively', text: ' relatively' },
      { id: 12772, token: 'Ġrelatives', text: ' relatives' },
    ],
  });
});

test('bad arguments exit 2 with one line; --help exits 0', () => {
  const bad: Array<[string[], string]> = [
    [['decode', '464', 'abc'], 'gpt2-lens: token id "abc" is not a non-negative integer\n'],
    [['vocab', '/(/'], 'gpt2-lens: PATTERN /(/ is not a valid regular expression (Invalid regular expression: /(/: Unterminated group)\n'],
  ];
  for (const [args, stderr] of bad) {
    const r = cli(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, stderr);
    assert.equal(r.stdout, '');
  }
  const h = cli(['vocab', '--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /^Usage: gpt2-lens vocab \[options\] <pattern>/);
});
