// gpt2-lens cache ls [--json]: what the HF cache holds (a simpler `huggingface-cli scan-cache`).
import type { Command } from 'commander';
import { formatBytes, hubCacheDir, scanCache, type CachedRepo } from '../../node/hub/index.js';

/** The `cache ls` table: one row per repo, with its refs, snapshot commits and size on disk. */
export function formatCacheTable(cacheDir: string, repos: CachedRepo[]): string {
  if (repos.length === 0) return `No models in the Hugging Face cache at ${cacheDir}.\nDownload one with: gpt2-lens download openai-community/gpt2\n`;
  const rows = repos.map((r) => [
    r.repoId,
    formatBytes(r.sizeOnDisk),
    String(r.blobs),
    Object.keys(r.refs).sort().join(', ') || '-',
    r.snapshots.map((s) => s.commit.slice(0, 8)).join(', ') || '-',
    r.incomplete > 0 ? `${r.incomplete} unfinished` : '',
  ]);
  const header = ['REPO ID', 'SIZE ON DISK', 'FILES', 'REFS', 'SNAPSHOTS', ''];
  const widths = header.map((h, i) => rows.reduce((w, r) => Math.max(w, r[i]!.length), h.length));
  const line = (cells: string[]) => cells.map((c, i) => (i === 1 || i === 2 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join('  ').trimEnd();
  const total = repos.reduce((s, r) => s + r.sizeOnDisk, 0);
  return [line(header), ...rows.map(line), '', `${repos.length} repo(s), ${formatBytes(total)} in ${cacheDir}`].join('\n') + '\n';
}

export function register(program: Command): void {
  const cache = program.command('cache').description('inspect the Hugging Face cache shared with Python');
  cache
    .command('ls')
    .description('list the cached models: repo, size on disk, files, refs and snapshot commits')
    .option('--json', 'print JSON (cache_dir, and per repo: refs, snapshots with their files and sizes)')
    .option('--cache-dir <dir>', 'the cache folder (default: $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub)')
    .action((opts: { json?: boolean; cacheDir?: string }) => {
      const dir = opts.cacheDir ?? hubCacheDir();
      // An odd entry (a link to a folder in refs/, a file in snapshots/, an unreadable folder) is skipped and
      // reported on stderr; the rest is listed.
      const warnings: string[] = [];
      const repos = scanCache(dir, { onWarning: (m) => warnings.push(m) });
      for (const w of warnings) process.stderr.write(`gpt2-lens: warning: ${w}\n`);
      process.stdout.write(opts.json ? JSON.stringify({ cache_dir: dir, repos, warnings }, null, 2) + '\n' : formatCacheTable(dir, repos));
    });
}
