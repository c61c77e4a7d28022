// gpt2-lens download [MODEL] [--revision R] [--force] [--quiet]: fill the HF cache once, so later commands work
// offline. The files already cached are checked (size and hash) and a damaged one is downloaded again.
import type { Command } from 'commander';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatBytes, HubError, hubCacheDir, looksLikePath, resolveModelFolder, validateRepoId, validateRevision } from '../../node/hub/index.js';
import { isRandomSpec } from '../../model/random.js';
import { UsageError } from '../errors.js';
import { DEFAULT_MODEL } from '../model-option.js';

/** The model argument and --revision, checked before anything touches the cache or the network (exit 2). */
function checkArguments(model: string, revision: string): void {
  if (isRandomSpec(model)) throw new UsageError(`${model} is made of random weights: there is nothing to download`);
  if (looksLikePath(model) || existsSync(model)) {
    const what = existsSync(model) ? (statSync(model).isDirectory() ? 'a local folder' : 'a local file') : 'a local path (which does not exist)';
    throw new UsageError(`${model} is ${what}, not a Hub repo id: there is nothing to download. Pass a folder to the other commands as --model ${model}`);
  }
  try {
    validateRepoId(model);
    validateRevision(revision);
  } catch (err) {
    if (err instanceof HubError) throw new UsageError(err.message);
    throw err;
  }
}

export function register(program: Command): void {
  program
    .command('download')
    .description('download a model from the Hugging Face Hub into the HF cache (shared with Python), then print its folder')
    .argument('[model]', 'a Hub repo id', DEFAULT_MODEL)
    .option('--revision <rev>', 'a branch, tag, commit hash or ref such as refs/pr/1', 'main')
    .option('--force', 'download every file again, even those already cached (huggingface_hub force_download)')
    .option('--cache-dir <dir>', 'the cache folder (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .option('-q, --quiet', 'no progress bar; print only the folder')
    .addHelpText(
      'after',
      '\nFiles already in the cache are checked against the Hub (size, and sha256 / git sha1); a damaged one is\n' +
        'downloaded again. --force downloads everything again.\n' +
        'Environment: HF_ENDPOINT, HF_TOKEN / HF_TOKEN_PATH (gated or private repos), HF_HUB_CACHE, HF_HOME, HF_HUB_OFFLINE.\n' +
        'Example:\n  gpt2-lens download openai-community/gpt2\n  gpt2-lens download openai-community/gpt2 --force\n  HF_HUB_OFFLINE=1 gpt2-lens next "The theory of relativity is"\n',
    )
    .action(async (model: string, opts: { revision: string; force?: boolean; cacheDir?: string; quiet?: boolean }) => {
      checkArguments(model, opts.revision);
      const folder = await resolveModelFolder(model, {
        revision: opts.revision,
        cache_dir: opts.cacheDir,
        quiet: opts.quiet,
        force_download: opts.force === true,
        verify: true,
        onWarning: (message) => process.stderr.write(`gpt2-lens: warning: ${message}\n`),
      });
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
