import { readFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError } from "../errors/index.js";
import type { Tokenizer } from "../tokenize/index.js";
import { TokenType, type GgufMetadata, type GgufValue } from "./gguf-encoding.js";

/**
 * tokenizer.json → `tokenizer.ggml.*` metadata, as convert_hf_to_gguf.py writes it, for the two families of the
 * supported models:
 * - SentencePiece-style BPE with byte fallback (Llama 1/2, Mistral, stories260k: `▁` for spaces, `<0xNN>` byte
 *   tokens) → model `llama`. llama.cpp's SPM tokenizer merges the adjacent pair whose joined token scores
 *   highest, so each token made by merge number r scores -r: the same merge order as the HF BPE.
 * - Byte-level BPE (GPT-2, Qwen2/3, Llama 3) → model `gpt2` with the merges and `tokenizer.ggml.pre`, the name
 *   of llama.cpp's pre-tokenizer regex, identified from the tokenizer.json's own regex.
 */
export const PRE_TOKENIZER_REGEXES: Readonly<Record<string, string>> = {
  qwen2: "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
  "llama-bpe": "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+",
};

interface TokenizerJson {
  model: { type: string; vocab: Record<string, number>; merges?: (string | [string, string])[]; byte_fallback?: boolean; unk_token?: string | null };
  added_tokens?: { id: number; content: string; special: boolean }[];
  normalizer?: Record<string, any> | null;
  pre_tokenizer?: Record<string, any> | null;
}

const SUPPORTED = "a BPE tokenizer.json: SentencePiece-style with byte fallback (Llama 2, Mistral) or byte-level (GPT-2, Qwen2/3, Llama 3)";

function flatten(node: Record<string, any> | null | undefined, key: "normalizers" | "pretokenizers"): Record<string, any>[] {
  if (!node) return [];
  return node.type === "Sequence" ? (node[key] as Record<string, any>[]).flatMap((n) => flatten(n, key)) : [node];
}

/** Which llama.cpp pre-tokenizer a byte-level tokenizer.json's pre_tokenizer is. */
export function identifyPreTokenizer(pre: Record<string, any> | null | undefined): string {
  const steps = flatten(pre, "pretokenizers");
  const byteLevel = steps.find((s) => s.type === "ByteLevel");
  const split = steps.find((s) => s.type === "Split");
  if (steps.length === 1 && byteLevel && byteLevel.use_regex !== false) return "gpt-2";
  if (steps.length === 2 && byteLevel && split && typeof split.pattern?.Regex === "string") {
    for (const [name, regex] of Object.entries(PRE_TOKENIZER_REGEXES)) if (split.pattern.Regex === regex) return name;
  }
  throw new ConfigError("EXPORT_PRETOKENIZER_UNSUPPORTED", `the tokenizer's pre_tokenizer ${JSON.stringify(pre)?.slice(0, 300)} is not one llama.cpp knows by name`, {
    fix: `export a model whose byte-level pre-tokenizer is GPT-2's or one of: ${Object.keys(PRE_TOKENIZER_REGEXES).join(", ")}`,
  });
}

function mergeText(m: string | [string, string]): string {
  return typeof m === "string" ? m : `${m[0]} ${m[1]}`;
}

/**
 * The tokenizer metadata for `vocabSize` embedding rows (config.json's vocab_size; rows past the tokenizer's
 * vocabulary become unused `[PADn]` tokens, as convert_hf_to_gguf pads them).
 */
export async function tokenizerMetadata(tokenizer: Tokenizer, vocabSize: number, chatTemplate: string | null): Promise<GgufMetadata> {
  const raw = JSON.parse(readFileSync(join(tokenizer.modelDir, "tokenizer.json"), "utf8")) as TokenizerJson;
  if (raw.model.type !== "BPE") {
    throw new ConfigError("EXPORT_TOKENIZER_UNSUPPORTED", `tokenizer.json model type ${raw.model.type} cannot be exported`, { fix: `export a model with ${SUPPORTED}` });
  }
  const byId = new Map<number, string>();
  for (const [text, id] of Object.entries(raw.model.vocab)) byId.set(id, text);
  const added = new Map<number, { content: string; special: boolean }>();
  for (const t of raw.added_tokens ?? []) {
    byId.set(t.id, t.content);
    added.set(t.id, t);
  }
  const maxId = Math.max(...byId.keys());
  const size = vocabSize;
  if (maxId >= vocabSize) {
    throw new ConfigError("EXPORT_VOCAB_MISMATCH", `the tokenizer has token id ${maxId}, past config.json vocab_size ${vocabSize}`, {
      fix: "use the tokenizer that belongs to this model (its ids must fit the embedding rows)",
    });
  }
  const spm = raw.model.byte_fallback === true;
  const merges = (raw.model.merges ?? []).map(mergeText);
  // Score of each merged token: minus its merge rank (the first merge scores highest).
  const mergeRank = new Map<string, number>();
  merges.forEach((m, rank) => {
    const joined = m.replace(" ", "");
    if (!mergeRank.has(joined)) mergeRank.set(joined, rank);
  });
  const tokens: string[] = [];
  const scores: number[] = [];
  const types: number[] = [];
  for (let id = 0; id < size; id++) {
    const text = byId.get(id);
    if (text === undefined) {
      tokens.push(`[PAD${id}]`);
      scores.push(-1e9);
      types.push(TokenType.UNUSED);
      continue;
    }
    tokens.push(text);
    const extra = added.get(id);
    const rank = mergeRank.get(text);
    // Base symbols and added tokens are never the product of a merge: scored below every merge.
    scores.push(rank === undefined ? (extra ? 0 : -1e6) : -rank);
    if (extra) types.push(text === raw.model.unk_token ? TokenType.UNKNOWN : extra.special ? TokenType.CONTROL : TokenType.USER_DEFINED);
    else if (spm && /^<0x[0-9A-F]{2}>$/.test(text)) types.push(TokenType.BYTE);
    else types.push(TokenType.NORMAL);
  }

  const kv: [string, GgufValue][] = [];
  if (spm) {
    kv.push(["tokenizer.ggml.model", { type: "string", value: "llama" }]);
    kv.push(["tokenizer.ggml.pre", { type: "string", value: "default" }]);
  } else {
    kv.push(["tokenizer.ggml.model", { type: "string", value: "gpt2" }]);
    kv.push(["tokenizer.ggml.pre", { type: "string", value: identifyPreTokenizer(raw.pre_tokenizer) }]);
  }
  kv.push(["tokenizer.ggml.tokens", { type: "string[]", value: tokens }]);
  if (spm) kv.push(["tokenizer.ggml.scores", { type: "f32[]", value: scores }]);
  kv.push(["tokenizer.ggml.token_type", { type: "i32[]", value: types }]);
  if (!spm) kv.push(["tokenizer.ggml.merges", { type: "string[]", value: merges }]);
  const unk = raw.model.unk_token ? tokenizer.tokenToId(raw.model.unk_token) : null;
  if (tokenizer.bosId !== null) kv.push(["tokenizer.ggml.bos_token_id", { type: "u32", value: tokenizer.bosId }]);
  if (tokenizer.eosId !== null) kv.push(["tokenizer.ggml.eos_token_id", { type: "u32", value: tokenizer.eosId }]);
  if (unk !== null) kv.push(["tokenizer.ggml.unknown_token_id", { type: "u32", value: unk }]);
  kv.push(["tokenizer.ggml.padding_token_id", { type: "u32", value: tokenizer.padId }]);
  // The same rule tunekit encodes plain text with: does the post-processor put BOS first?
  const probe = await tokenizer.encode("a", { addSpecialTokens: true });
  kv.push(["tokenizer.ggml.add_bos_token", { type: "bool", value: tokenizer.bosId !== null && probe[0] === tokenizer.bosId }]);
  kv.push(["tokenizer.ggml.add_eos_token", { type: "bool", value: tokenizer.eosId !== null && probe.length > 1 && probe[probe.length - 1] === tokenizer.eosId }]);
  if (spm) kv.push(["tokenizer.ggml.add_space_prefix", { type: "bool", value: addsSpacePrefix(raw) }]);
  if (chatTemplate !== null) kv.push(["tokenizer.chat_template", { type: "string", value: chatTemplate }]);
  return kv;
}

/** SPM tokenizers prepend `▁` to the text (a Prepend normalizer, or a Metaspace pre-tokenizer that prepends). */
function addsSpacePrefix(raw: TokenizerJson): boolean {
  if (flatten(raw.normalizer, "normalizers").some((n) => n.type === "Prepend" && n.prepend === "\u2581")) return true;
  const meta = flatten(raw.pre_tokenizer, "pretokenizers").find((p) => p.type === "Metaspace");
  return meta !== undefined && (meta.prepend_scheme === "always" || meta.prepend_scheme === "first" || meta.add_prefix_space === true);
}
