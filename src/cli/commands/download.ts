// gpt2-lens download [MODEL] [--revision R] [--quiet]: fill the HF cache once, so later commands work offline.
import type { Command } from 'commander';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes, hubCacheDir, resolveModelFolder } from '../../hub/index.js';
import { isRandomSpec } from '../../model/random.js';
import { UsageError } from '../errors.js';
import { DEFAULT_MODEL } from '../model-option.js';

export function register(program: Command): void {
  program
    .command('download')
    .description('download a model from the Hugging Face Hub into the HF cache (shared with Python), then print its folder')
    .argument('[model]', 'a Hub repo id', DEFAULT_MODEL)
    .option('--revision <rev>', 'a branch, tag or commit hash', 'main')
    .option('--cache-dir <dir>', 'the cache folder (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .option('-q, --quiet', 'no progress bar; print only the folder')
    .addHelpText(
      'after',
      '\nEnvironment: HF_ENDPOINT, HF_TOKEN / HF_TOKEN_PATH (gated or private repos), HF_HUB_CACHE, HF_HOME, HF_HUB_OFFLINE.\n' +
        'Example:\n  gpt2-lens download openai-community/gpt2\n  HF_HUB_OFFLINE=1 gpt2-lens next "The theory of relativity is"\n',
    )
    .action(async (model: string, opts: { revision: string; cacheDir?: string; quiet?: boolean }) => {
      if (isRandomSpec(model)) throw new UsageError(`${model} is made of random weights: there is nothing to download`);
      const folder = await resolveModelFolder(model, { revision: opts.revision, cache_dir: opts.cacheDir, quiet: opts.quiet });
      if (opts.quiet) {
        process.stdout.write(`${folder}\n`);
        return;
      }
      const lines = [`${model} (revision ${opts.revision}) is in ${opts.cacheDir ?? hubCacheDir()}:`];
      let total = 0;
      for (const f of readdirSync(folder).sort()) {
        const size = statSync(join(folder, f)).size;
        total += size;
        lines.push(`  ${f.padEnd(36)} ${formatBytes(size).padStart(10)}`);
      }
      lines.push(`  ${'total'.padEnd(36)} ${formatBytes(total).padStart(10)}`, folder);
      process.stdout.write(lines.join('\n') + '\n');
    });
}
