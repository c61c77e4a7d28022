// The README's quick start (examples/quickstart.ts) runs as printed, and its numbers are HF's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { FIXTURE_DIR, REPO_ROOT, readGolden } from './helpers/fixtures.js';
import { readTokenizerFolder } from '../src/tokenizer/node.js';

test('examples/quickstart.ts on the fixture: the notebook ids, HF\'s top token and HF\'s greedy text', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples/quickstart.ts'), FIXTURE_DIR], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.match(lines[0]!, /^\[ 464, 4583, 286, 44449, 318 \]/);
  assert.equal(lines[1], '" healing" 0.1252'); // golden-generate greedy_20: the first token and its softmax
  const golden = readGolden<{ cases: Array<{ name: string; sequences: number[][] }> }>('golden-generate.json').cases.find((c) => c.name === 'greedy_20')!;
  const tokenizer = readTokenizerFolder(FIXTURE_DIR);
  const greedy = lines.find((l) => l.startsWith('greedy: '));
  assert.equal(greedy, `greedy: ${tokenizer.decode(golden.sequences[0]!.slice(0, 5 + 15))}`);
  assert.ok(lines.some((l) => l.startsWith('beam  : The theory of relativity is')));
  assert.ok(lines.some((l) => l.startsWith('sample: The theory of relativity is')));
});

test('examples/interventions.ts (docs/interventions.md) runs as printed on the fixture', () => {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'examples/interventions.ts'), FIXTURE_DIR], { cwd: REPO_ROOT, encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.split('\n');
  assert.equal(lines[0], 'hooked logits: 1x1x50257');
  assert.match(lines[1]!, /^ablated top: (".*" 0\.\d{4}, ){2}".*" 0\.\d{4}$/);
  const m = /^attribution: logit (-?[\d.]+), 15 components summing to (-?[\d.]+)$/.exec(lines[2]!);
  assert.ok(m && m[1] === m[2], lines[2]);
  assert.equal(lines[3], 'patching: 2 × 14 cells; clean diff 13.0710, corrupted 8.2783');
});
