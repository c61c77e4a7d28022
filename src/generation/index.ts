// Generation's public API (browser-safe). See docs/generation.md.
export {
  generate,
  streamGenerate,
  prepareGeneration,
  positionIdsFromMask,
  type GenerationModel,
  type GenerateOptions,
  type GenerateOutput,
  type GenerationTrace,
  type TraceStep,
  type TraceRow,
  type TraceBeam,
  type TraceCandidate,
  type TraceHypothesis,
  type StreamedToken,
} from './generate.js';
export {
  GENERATION_DEFAULTS,
  GenerationError,
  parseGenerationConfig,
  resolveGenerationConfig,
  validateGenerationConfig,
  buildLogitsProcessors,
  buildLogitsWarpers,
  eosIds,
  type GenerationConfig,
} from './configuration.js';
export {
  LogitsProcessorList,
  TemperatureLogitsWarper,
  TopKLogitsWarper,
  TopPLogitsWarper,
  MinPLogitsWarper,
  TypicalLogitsWarper,
  EpsilonLogitsWarper,
  EtaLogitsWarper,
  RepetitionPenaltyLogitsProcessor,
  NoRepeatNGramLogitsProcessor,
  MinLengthLogitsProcessor,
  MinNewTokensLengthLogitsProcessor,
  NoBadWordsLogitsProcessor,
  topKIndices,
  type LogitsProcessor,
} from './logits-process.js';
export { BeamHypotheses, BeamSearchScorer, type BeamHypothesis, type BeamCandidate, type BeamSearchOutput } from './beam-search.js';
export { Xoshiro128, sampleFromScores, sampleWithoutReplacement, drawIndex } from './random.js';
export { TextStreamer, CallbackStreamer, type BaseStreamer, type TextStreamerOptions, type StreamDecoderFactory } from './streamers.js';
