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

export async function main(argv: string[] = process.argv): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return 0;
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
  main().then((code) => {
    process.exitCode = code;
  });
}
