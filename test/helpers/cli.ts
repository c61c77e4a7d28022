// Runs the gpt2-lens CLI as a user runs it: a child process (node + tsx on src/cli/main.ts, the repository root as
// cwd). Synchronous, so only for commands that need nothing from this process while they run (not the fake Hub).
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { REPO_ROOT } from './fixtures.js';

/** src/cli/main.ts, the CLI's entry point */
export const CLI_MAIN = join(REPO_ROOT, 'src/cli/main.ts');

export interface CliResult {
  /** the exit status (null when killed, e.g. by the 60 s timeout) */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `gpt2-lens ARGS` with `input` on stdin (nothing by default), for 60 s at most. */
export function runCli(args: readonly string[], input = ''): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', CLI_MAIN, ...args], { cwd: REPO_ROOT, input, encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}
