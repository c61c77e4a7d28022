// The Hugging Face Hub and its local cache (Node only). Placeholder contract until the hub issue lands:
// resolveModelFolder(idOrFolder) returns a local folder holding config.json, generation_config.json, the
// tokenizer's files and the safetensors weights, downloading them into the HF cache when needed.

export interface PretrainedOptions {
  /** branch, tag or commit; default "main" */
  revision?: string;
  /** overrides $HF_HUB_CACHE / $HF_HOME/hub / ~/.cache/huggingface/hub */
  cache_dir?: string;
  /** never touch the network (also when HF_HUB_OFFLINE=1) */
  local_files_only?: boolean;
  /** a Hub token; default $HF_TOKEN or the file at $HF_TOKEN_PATH / $HF_HOME/token */
  token?: string;
  /** no progress bar */
  quiet?: boolean;
}

/** A folder path is returned as is; a Hub id (`openai-community/gpt2`) is resolved through the HF cache. */
export async function resolveModelFolder(idOrFolder: string, _options: PretrainedOptions = {}): Promise<string> {
  throw new Error(`"${idOrFolder}" is not a local folder, and downloading from the Hugging Face Hub is not implemented yet`);
}
