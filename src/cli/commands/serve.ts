// gpt2-lens serve [--model M] [--host 127.0.0.1] [--port 8080]: the explorer's web page and its JSON API
// (docs/explorer.md, docs/api.md). The model is loaded once, before the server starts listening.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from '../../server/index.js';
import { defaultWebRoot } from '../../server/static.js';
import { UsageError } from '../errors.js';
import { addEngineOptions, loadModelAndTokenizer, modelOption, type EngineCliOptions } from '../model-option.js';

function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65535) throw new UsageError(`--port must be a whole number from 0 to 65535, got "${value}"`);
  return n;
}

export function register(program: Command): void {
  const command = program
    .command('serve')
    .description('serve the explorer: a web page where you watch GPT-2 choose its next token, and its JSON API')
    .addOption(modelOption())
    .option('--host <host>', 'the address to listen on (0.0.0.0 for every interface)', '127.0.0.1')
    .option('--port <port>', 'the port to listen on (0 picks a free one)', '8080')
    .option('-q, --quiet', 'no line per request')
    .addHelpText(
      'after',
      '\nExamples:\n  gpt2-lens serve                          # real GPT-2 (downloaded once), http://127.0.0.1:8080/\n' +
        '  gpt2-lens serve --model random:gpt2      # offline, random weights\n' +
        '  gpt2-lens serve --model ./my-gpt2 --port 3000\n\nThe API is documented in docs/api.md.',
    );
  addEngineOptions(command).action(async (opts: EngineCliOptions & { model: string; host: string; port: string; quiet?: boolean }) => {
    const port = parsePort(opts.port);
    const { model, tokenizer } = await loadModelAndTokenizer(opts.model, { engine: opts });
    const log = opts.quiet ? undefined : (line: string) => process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    const server = createServer({ model, tokenizer, modelName: opts.model, log });
    let address: { url: string };
    try {
      address = await server.listen(port, opts.host);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${opts.host} is already in use: pick another with --port`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new UsageError(`cannot listen on --host ${opts.host}: no such address on this machine`);
      throw err;
    }
    const lines = [`gpt2-lens explorer: ${model.description}; computing with ${model.backend.name}`];
    if (model.is_random) lines.push('  the weights are RANDOM: the mechanics are real, the text is nonsense');
    if (!existsSync(join(defaultWebRoot(), 'index.html'))) lines.push('  the web page is not built: run `npm run build:web` (the API works without it)');
    lines.push(`  open ${address.url}  (Ctrl+C stops)`);
    process.stderr.write(lines.join('\n') + '\n');
    const stop = (): void => {
      void server.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
