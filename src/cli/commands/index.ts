// Every CLI command, in the order `gpt2-lens --help` lists them (the notebook's order: tokens, the model's
// next-token table, generation, the interventions (attribute, patch; next/generate --ablate), then the explorer and the model cache). A command file exports `register(program)`.
import type { Command } from 'commander';
import { register as tokenize } from './tokenize.js';
import { register as decode } from './decode.js';
import { register as vocab } from './vocab.js';
import { register as next } from './next.js';
import { register as info } from './info.js';
import { register as forward } from './forward.js';
import { register as generate } from './generate.js';
import { register as attribute } from './attribute.js';
import { register as patch } from './patch.js';
import { register as serve } from './serve.js';
import { register as download } from './download.js';
import { register as cache } from './cache.js';

export type RegisterCommand = (program: Command) => void;

export const commands: RegisterCommand[] = [tokenize, decode, vocab, info, next, forward, generate, attribute, patch, serve, download, cache];
