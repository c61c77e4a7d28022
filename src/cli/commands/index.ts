// Every CLI command, in the order `gpt2-lens --help` lists them. A command file exports `register(program)`.
import type { Command } from 'commander';
import { register as download } from './download.js';
import { register as cache } from './cache.js';
import { register as serve } from './serve.js';
import { register as next } from './next.js';
import { register as generate } from './generate.js';
import { register as tokenize } from './tokenize.js';
import { register as decode } from './decode.js';
import { register as vocab } from './vocab.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [download, cache, serve, next, generate, tokenize, decode, vocab];
