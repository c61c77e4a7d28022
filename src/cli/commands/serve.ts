// gpt2-lens serve [--model M] [--host 127.0.0.1] [--port 8080] [--allowed-hosts a,b]: the explorer's web page and its JSON API
// (docs/explorer.md, docs/api.md). The model is loaded once, before the server starts listening.
import type { Command } from 'commander';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createServer } from '../../server/index.js';
import { LOOPBACK_HOSTS, parseAllowedHosts } from '../../server/guard.js';
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
    .option('--host <host>', 'the address to listen on (0.0.0.0 for every interface: see --allowed-hosts)', '127.0.0.1')
    .option(
      '--allowed-hosts <names>',
      'comma-separated host names or IP addresses a browser may use to reach this server, besides localhost, 127.0.0.1, [::1] and --host (e.g. mybox.local,192.168.1.5)',
    )
    .option('--port <port>', 'the port to listen on (0 picks a free one)', '8080')
    .option('-q, --quiet', 'no line per request')
    .addHelpText(
      'after',
      '\nExamples:\n  gpt2-lens serve                          # real GPT-2 (downloaded once), http://127.0.0.1:8080/\n' +
        '  gpt2-lens serve --model random:gpt2      # offline, random weights\n' +
        '  gpt2-lens serve --model ./my-gpt2 --port 3000\n' +
        '  gpt2-lens serve --host 0.0.0.0 --allowed-hosts mybox.local,192.168.1.5   # on purpose, for the LAN\n\n' +
        'Only requests whose Host names this server are answered (403 otherwise), and a page on another site cannot\n' +
        'POST to it: see docs/api.md, which documents the API.',
    );
  addEngineOptions(command).action(async (opts: EngineCliOptions & { model: string; host: string; port: string; allowedHosts?: string; quiet?: boolean }) => {
    const port = parsePort(opts.port);
    let allowedHosts: string[];
    try {
      allowedHosts = parseAllowedHosts((opts.allowedHosts ?? '').split(','));
    } catch (err) {
      throw new UsageError(`--allowed-hosts: ${(err as Error).message}`);
    }
    const { model, tokenizer } = await loadModelAndTokenizer(opts.model, { engine: opts });
    const stamp = (line: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} ${line}\n`);
    const server = createServer({ model, tokenizer, modelName: opts.model, allowedHosts, log: opts.quiet ? undefined : stamp, logError: stamp });
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
    if (server.acceptedHosts.size > LOOPBACK_HOSTS.length) lines.push(`  answering requests for Host ${[...server.acceptedHosts].join(', ')}`);
    if (['0.0.0.0', '::', '[::]'].includes(opts.host) && allowedHosts.length === 0) {
      lines.push(`  listening on every interface, but other machines get 403 until their name for this one is allowed: --allowed-hosts NAME`);
    }
    lines.push(`  open ${address.url}  (Ctrl+C stops)`);
    process.stderr.write(lines.join('\n') + '\n');
    const stop = (): void => {
      void server.close().then(() => process.exit(0));
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
