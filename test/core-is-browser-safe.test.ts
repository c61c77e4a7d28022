// The core must run in a browser or a Web Worker unchanged: no file of it may import a Node built-in. The core is
// every folder of src/ but the Node ones (the same NODE_FOLDERS as eslint.config.js), and src/index.ts. ESLint
// enforces the same rule; this test keeps it true even when someone runs the tests without the linter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/fixtures.js';

const NODE_FOLDERS = new Set(['node', 'server', 'cli']);
const CORE = readdirSync(join(REPO_ROOT, 'src'))
  .filter((e) => !NODE_FOLDERS.has(e) && (statSync(join(REPO_ROOT, 'src', e)).isDirectory() || e.endsWith('.ts')))
  .map((e) => `src/${e}`)
  .sort();
const builtins = new Set(builtinModules);

function* tsFiles(dir: string): Generator<string> {
  if (statSync(dir).isFile()) {
    yield dir;
    return;
  }
  const entries = readdirSync(dir);
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e === 'build' || e === 'node_modules') continue;
      yield* tsFiles(p);
    } else if (e.endsWith('.ts')) yield p;
  }
}

test('the core folders import no Node built-in', () => {
  const offenders: string[] = [];
  let files = 0;
  for (const dir of CORE) {
    for (const file of tsFiles(join(REPO_ROOT, dir))) {
      files++;
      const src = readFileSync(file, 'utf8');
      for (const m of src.matchAll(/(?:from\s+|import\s*\(\s*|require\s*\(\s*)['"]([^'"]+)['"]/g)) {
        const spec = m[1]!;
        if (spec.startsWith('node:') || builtins.has(spec.split('/')[0]!)) offenders.push(`${file.slice(REPO_ROOT.length)} imports ${spec}`);
      }
    }
  }
  // the core folders as they are today: a folder that disappears or a new one shows here
  assert.deepEqual(CORE, ['src/engine', 'src/explorer', 'src/generation', 'src/hub', 'src/index.ts', 'src/interp', 'src/model', 'src/tokenizer']);
  assert.ok(files > 60, `found only ${files} core files to check`);
  assert.deepEqual(offenders, []);
});
