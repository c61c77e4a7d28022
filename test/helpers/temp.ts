// Temporary folders for a test file: made under the OS temp dir, all removed when the file's tests end.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';

/**
 * Call once at a test file's top level: returns a function that makes a fresh folder named PREFIX + random
 * characters; an after() hook of the file removes every folder it made.
 */
export function tempDirs(prefix: string): () => string {
  const made: string[] = [];
  after(() => {
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    made.push(d);
    return d;
  };
}
