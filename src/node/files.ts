// Files of a model folder, read by the Node adapters (model, tokenizer): a file that is a folder, a symbolic link
// loop, a dangling link or unreadable is named with its problem, instead of a raw EISDIR / ELOOP or "not found".
// A file in the Hugging Face cache also gets the command that repairs it.
import { lstatSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { repairCommand } from './hub/cache.js';

/** What is wrong with `path` as a file to read: undefined when it is a readable regular file, 'absent' when nothing is there. */
export function fileProblem(path: string): string | undefined {
  try {
    lstatSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'absent';
    if (code === 'ENOTDIR') return 'absent'; // a parent is a file: nothing can be there
    return `cannot be examined (${code})`;
  }
  let st;
  try {
    st = statSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ELOOP') return 'is a symbolic link loop';
    if (code === 'ENOENT') {
      let target = '?';
      try {
        target = readlinkSync(path);
      } catch {
        // keep '?'
      }
      return `is a symbolic link to ${target}, which does not exist`;
    }
    if (code === 'EACCES') return 'cannot be read (permission denied)';
    return `cannot be followed (${code})`;
  }
  if (st.isDirectory()) return 'is a folder, not a file';
  if (!st.isFile()) return 'is not a regular file';
  return undefined;
}

/** The message for a file that is there but broken, with the repair command when it lives in the HF cache. */
export function brokenFileMessage(path: string, problem: string): string {
  const repair = repairCommand(path);
  return `${path} ${problem}${repair ? `. Repair the cache with: ${repair}` : ''}`;
}

/** true for a readable regular file, false when absent; throws an Error naming the file and its problem otherwise. */
export function fileExists(path: string): boolean {
  const problem = fileProblem(path);
  if (problem === 'absent') return false;
  if (problem !== undefined) throw new Error(brokenFileMessage(path, problem));
  return true;
}

/** A text file's content; errors name the file and the problem (absent included). */
export function readTextFile(path: string): string {
  const problem = fileProblem(path);
  if (problem === 'absent') throw new Error(`${path} does not exist`);
  if (problem !== undefined) throw new Error(brokenFileMessage(path, problem));
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
  }
}
