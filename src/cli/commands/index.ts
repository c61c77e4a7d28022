// Every CLI command, in the order `gpt2-lens --help` lists them. A command file exports `register(program)`.
import type { Command } from 'commander';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [];
