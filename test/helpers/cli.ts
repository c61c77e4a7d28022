// Runs the gpt2-lens CLI as a user runs it: a child process (node + tsx on src/cli/main.ts, the repository root as
// cwd). runCli is synchronous, so only for commands that need nothing from this process while they run; with a
// server in this process (the fake Hub), use runTsx.
import { spawn, spawnSync } from 'node:child_process';
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

/**
 * Runs `node --import tsx ARGS` (e.g. [CLI_MAIN, ...args], or ['--input-type=module', '-e', code]) in the repository
 * root without blocking this process, with `env` as its whole environment.
 */
export function runTsx(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: REPO_ROOT, env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
