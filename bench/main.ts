// npm run bench [-- NAME...]: runs the named benchmarks (all when none is named). Each bench/NAME.ts exports
// `run(args)`, prints its figures, and states them as ratios against a baseline measured in the same run.
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const dir = fileURLToPath(new URL('.', import.meta.url));
const available = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && f !== 'main.ts' && !f.startsWith('_'))
  .map((f) => f.slice(0, -3))
  .sort();

const args = process.argv.slice(2);
const names = args.filter((a) => !a.startsWith('-'));
const flags = args.filter((a) => a.startsWith('-'));
if (flags.includes('--help') || flags.includes('-h')) {
  console.log(`usage: npm run bench [-- NAME...] [flags]\nbenchmarks: ${available.join(', ')}`);
  process.exit(0);
}
for (const n of names) {
  if (!available.includes(n)) {
    console.error(`unknown benchmark "${n}"; available: ${available.join(', ')}`);
    process.exit(2);
  }
}
for (const name of names.length ? names : available) {
  console.log(`\n=== bench: ${name} ===`);
  const mod = (await import(`./${name}.ts`)) as { run: (flags: string[]) => Promise<void> };
  await mod.run(flags);
}
