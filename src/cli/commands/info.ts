// gpt2-lens info [--model SPEC] [--class GPT2LMHeadModel|GPT2Model] [--json]: the notebook's `print(model)` — the
// module tree exactly as PyTorch prints HF's model, then the parameter count of every module and the total.
// Only config.json is read (for a Hub id, only it is downloaded): the tree and the counts follow from the config.
import { Option, type Command } from 'commander';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { hfHubDownload, isLocalModelFolder, resolveModelFolder } from '../../node/hub/index.js';
import { parseConfig } from '../../model/config.js';
import { moduleJson, moduleRepr, moduleTree, parameterCount, parameterTable, type ModelClassName } from '../../model/module-tree.js';
import { isRandomSpec, parseRandomSpec, randomConfig } from '../../model/random.js';
import type { GPT2Config } from '../../model/types.js';
import { modelOption } from '../model-option.js';

/** The config of a model spec: a random: spec, a folder's config.json, or a Hub repo's (downloaded alone). */
async function configOf(spec: string): Promise<GPT2Config> {
  if (isRandomSpec(spec)) return randomConfig(parseRandomSpec(spec));
  const looksLikePath = spec.startsWith('.') || spec.startsWith('/') || spec.includes('\\');
  const file = isLocalModelFolder(spec) || looksLikePath ? join(await resolveModelFolder(spec), 'config.json') : (await hfHubDownload(spec, 'config.json')).path;
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`cannot read ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  return parseConfig(json);
}

export function register(program: Command): void {
  program
    .command('info')
    .description("print the model's module tree as PyTorch's print(model) does, with parameter counts per module and in total")
    .addOption(modelOption())
    .addOption(new Option('--class <name>', 'the HF class to print: GPT2LMHeadModel (AutoModelForCausalLM) or GPT2Model (AutoModel)').choices(['GPT2LMHeadModel', 'GPT2Model']).default('GPT2LMHeadModel'))
    .option('--json', 'print {"model","class","repr","parameters","tree"}: the tree with every parameter\'s shape and count')
    .addHelpText('after', '\nOnly config.json is read, so this is instant even for a model not downloaded yet.\n\nExamples:\n  gpt2-lens info\n  gpt2-lens info --model random:gpt2 --class GPT2Model\n  gpt2-lens info --model ./my-gpt2 --json\n')
    .action(async (opts: { model: string; class: ModelClassName; json?: boolean }) => {
      const config = await configOf(opts.model);
      const tree = moduleTree(config, opts.class);
      if (opts.json) {
        process.stdout.write(JSON.stringify({ model: opts.model, class: opts.class, repr: moduleRepr(tree), parameters: parameterCount(tree), tree: moduleJson(tree) }) + '\n');
        return;
      }
      process.stdout.write(`${moduleRepr(tree)}\n\n${parameterTable(tree)}\n`);
    });
}
