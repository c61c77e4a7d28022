// gpt2-lens/node: everything in the core, plus the Node adapters (local files, the Hugging Face Hub and its cache).
export * from '../index.js';
export { loadBundledTokenizer, readTokenizerFolder, bundledVocabFolder, packageRoot, AutoTokenizer } from './tokenizer.js';
export { SafetensorsFileReader, readModelFolder, loadPretrainedFiles, savePretrained } from './model.js';
export { resolveModelFolder, hfHubDownload, HubError, scanCache, hubCacheDir, hubEndpoint, isOffline, getToken, terminalProgressBar, type PretrainedOptions, type HubDownloadOptions, type HubErrorCode, type DownloadProgress, type CachedRepo } from './hub/index.js';
export { nodeWorkerSpawner, defaultThreads, nodeEngineOptions, createNodeWasmBackend, useNodeWasmBackend, nodeEngineLoader, enableRelaxedSimd } from './threads.js';
