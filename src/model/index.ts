// The model's public API (browser-safe). See docs/model.md.
export type { Tensor, GPT2Config, GPT2Weights, ForwardInputs, BaseModelOutput, CausalLMOutput } from './types.js';
export { parseConfig, ConfigError, GPT2_DEFAULTS, innerDim, headDim } from './config.js';
export { KVCache, type KVCacheShape } from './kv-cache.js';
export type { ForwardBackend, BackendRequest, BackendResult } from './backend.js';
export { referenceBackend, gpt2Forward, unembed } from './gpt2.js';
export { hookNames, BLOCK_HOOKS, MODEL_HOOKS, checkHooks, hookLayer, type ForwardHooks, type HookFn, type HookContext } from './hooks.js';
export {
  GPT2PreTrainedModel,
  GPT2Model,
  GPT2LMHeadModel,
  AutoModelForCausalLM,
  AutoModel,
  registerPretrainedLoader,
  loadFromFiles,
  loadRandom,
  openFiles,
  openRandom,
  type OpenedPretrained,
  type BackendLoader,
  type PretrainedFiles,
  type FromPretrainedOptions,
  type PretrainedLoader,
  type ModelInit,
} from './model.js';
export { parseRandomSpec, randomConfig, randomWeights, randomReader, isRandomSpec, randomParameterCount, RANDOM_MAX_PARAMETERS, type RandomSpec } from './random.js';
export {
  SafetensorsFile,
  BlobSafetensors,
  BLOB_CHUNK_BYTES,
  SafetensorsError,
  ShardedSource,
  writeSafetensors,
  parseHeader,
  readHeaderLength,
  decodeTensor,
  parseShardIndex,
  type TensorSource,
  type AsyncTensorSource,
  type TensorInfo,
  type TensorToWrite,
  type SafetensorsHeader,
  type ShardIndex,
} from './safetensors.js';
export { weightsFromSource, weightsToTensors, countParameters } from './weights.js';
export { captureActivations, captureDims, CaptureError, MAX_CAPTURE_FLOATS, type CaptureJson } from './captures.js';
export { NonFiniteLogitsError, assertFiniteLogits, findNonFiniteLogit } from './non-finite.js';
export { rowStatsReference, newRowStats, checkRowStatsArgs, type RowStats, type RowStatsFunction } from './row-stats.js';
export { logitLens, type LogitLensOptions, type LogitLensResult, type LensTopK, type LensInputs } from './logit-lens.js';
export { moduleTree, moduleRepr, parameterCount, parameterTable, moduleJson, type ModuleNode, type ModuleJson, type ParameterInfo, type ModelClassName } from './module-tree.js';
export { formatTensor, formatSize, pyFixed, pyExponential, pyFloatRepr, type PrintOptions } from './format-tensor.js';
export { weightTensors, readerFromSource, readerFromWeights, readWeights, readWeightsAsync, tensorOf, type WeightReader, type WeightTensor } from './weight-reader.js';
