export { loadTokenizer, END_OF_TURN_TOKENS, type Tokenizer, type EncodeOptions, type EncodedText } from "./load-tokenizer.js";
export {
  countTokens,
  countTokensDetailed,
  encodingForModel,
  ENCODINGS,
  MODEL_ENCODINGS,
  CLAUDE_ESTIMATE_FACTOR,
  type CountOptions,
  type TokenCount,
  type EncodingName,
} from "./count-tokens.js";
export {
  loadChatTemplate,
  toTemplateMessages,
  CHATML_TEMPLATE,
  NAMED_TEMPLATES,
  type ChatTemplate,
  type TemplateChoice,
  type TemplateMessage,
  type RenderOptions,
} from "./chat-template.js";
export { renderConversation, type TrainedSpan, type RenderWarning, type RenderedConversation } from "./render-spans.js";
export {
  buildExample,
  buildExamples,
  prepareExample,
  finishExample,
  buildPrompt,
  addsSpecialTokens,
  type TokenizedExample,
  type ExampleOptions,
  type TrainOn,
  type PromptInput,
  type BuiltPrompt,
} from "./build-example.js";
export { previewExamples, type PreviewExample, type PreviewSegment, type PreviewOptions } from "./preview.js";
export { renderPreview } from "./preview-render.js";
export { compileShards, fitDocument, type CompileResult, type ShardHeader } from "./compile-shards.js";
export { SHARD_SPLITS, type CompileInput, type SplitSummary, type ShardSplit } from "./compile-splits.js";
export { SequencePacker, type PackedSequence, type PackDocument } from "./sequence-packer.js";
export { parseTemplateVariables } from "./template-variables.js";
export { compilePreferenceShards, type PreferenceShardHeader, type PreferenceCompileResult } from "./compile-preference-shards.js";
export { buildPairs, fitPair, pairConversations, type TokenizedPair } from "./preference-pair.js";
