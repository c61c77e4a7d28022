// The core (tokenizer, model, generation, engine) must run in a browser or a Web Worker unchanged:
// no file of it may import a Node built-in. ESLint enforces the same rule; this test keeps it true
// even when someone runs the tests without the linter.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join } from 'node:path';
import { REPO_ROOT } from './helpers/fixtures.js';

const CORE = ['src/tokenizer', 'src/model', 'src/generation', 'src/engine', 'src/interp'];
const builtins = new Set(builtinModules);

function* tsFiles(dir: string): Generator<string> {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) {
      if (e === 'build' || e === 'node_modules') continue;
      yield* tsFiles(p);
    } else if (e.endsWith('.ts') && !/^node.*\.ts$/.test(e) && !e.endsWith('.node.ts')) yield p;
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
  assert.ok(files > 0, 'found no core files to check');
  assert.deepEqual(offenders, []);
});
