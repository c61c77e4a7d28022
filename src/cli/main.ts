#!/usr/bin/env node
// The gpt2-lens command line. Each command lives in its own file under ./commands and registers itself here.
import { Command, CommanderError } from 'commander';
import { UsageError } from './errors.js';
import { commands } from './commands/index.js';

export function buildProgram(): Command {
  const program = new Command('gpt2-lens')
    .description('Run GPT-2 and see how it works: tokens, next-token probabilities, generation, attention.')
    .version('0.1.0')
    // A bad argument exits 2 with a one-line message; --help and --version exit 0.
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  for (const register of commands) register(program);
  return program;
}

/**
 * Whoever reads our output may stop early (`gpt2-lens vocab e | head -1`): writing then fails with EPIPE. Like Unix
 * tools, stop at once and quietly (exit 0: the reader has what it wanted), instead of an unhandled-error stack trace.
 */
export function quietOnClosedPipe(): void {
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(0);
      throw err;
    });
  }
}

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return 0;
      // help shown because a command was missing (`gpt2-lens cache`) is a usage error; `gpt2-lens help` is not
      if (err.code === 'commander.help') return err.exitCode === 0 ? 0 : 2;
      return 2; // commander already printed its one-line message
    }
    if (err instanceof UsageError) {
      process.stderr.write(`gpt2-lens: ${err.message}\n`);
      return 2;
    }
    process.stderr.write(`gpt2-lens: ${err instanceof Error ? err.message : String(err)}\n`);
    if (process.env.GPT2_LENS_DEBUG && err instanceof Error) process.stderr.write(`${err.stack}\n`);
    return 1;
  }
}

// Run when executed directly (node dist/src/cli/main.js, tsx src/cli/main.ts, or the npm bin link).
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const invokedPath = process.argv[1] ? realpathSync(process.argv[1]) : '';
if (invokedPath === realpathSync(fileURLToPath(import.meta.url))) {
  quietOnClosedPipe();
  main().then((code) => {
    process.exitCode = code;
  });
}
