import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { Tokenizer as RustTokenizer } from "tokenizers";
import { ConfigError, DataError, NotFoundError } from "../errors/index.js";
import { codePointToUtf16Map } from "./offsets.js";

/**
 * A Hugging Face tokenizer loaded from a model folder (tokenizer.json + tokenizer_config.json).
 *
 * The engine is the official Rust `tokenizers` core through its npm binding — the same code Python's
 * `tokenizers`/`transformers` run, so ids match the reference by construction, it reports character offsets
 * (needed to map rendered spans to tokens without boundary guessing), and `encodeBatch` runs on every core
 * through Rust threads. bench/tokenize.ts measures it against `@huggingface/tokenizers` (pure JS).
 */
export interface Tokenizer {
  readonly name: string;
  readonly modelDir: string;
  /** Vocabulary size including added tokens. */
  readonly vocabSize: number;
  readonly bosId: number | null;
  readonly bosToken: string | null;
  readonly eosId: number | null;
  readonly eosToken: string | null;
  /** eos plus the end-of-turn tokens the model's chat format uses (`<|im_end|>`, `<|eot_id|>`, …). */
  readonly eosIds: readonly number[];
  /** pad_token, else eos, else 0: padding is never attended to nor trained, so only its validity matters. */
  readonly padId: number;
  /** Every added token marked special, content → id. */
  readonly specialTokens: Readonly<Record<string, number>>;
  /** sha256 of tokenizer.json and tokenizer_config.json (hex). */
  readonly sha256: string;
  /** The parsed tokenizer_config.json ({} when the folder has none). */
  readonly config: Readonly<Record<string, unknown>>;
  encode(text: string, options?: EncodeOptions): Promise<number[]>;
  encodeBatch(texts: string[], options?: EncodeOptions): Promise<number[][]>;
  /** Ids with [start, end) offsets in UTF-16 code units of `text` (JS string indices). */
  encodeWithOffsets(text: string, options?: EncodeOptions): Promise<EncodedText>;
  encodeBatchWithOffsets(texts: string[], options?: EncodeOptions): Promise<EncodedText[]>;
  decode(ids: readonly number[], options?: { skipSpecialTokens?: boolean }): Promise<string>;
  countTokens(text: string): Promise<number>;
  idToToken(id: number): string | null;
  tokenToId(token: string): number | null;
}

export interface EncodeOptions {
  /** Add the tokenizer's post-processor tokens (BOS for Llama/stories260k, nothing for Qwen). Default false. */
  addSpecialTokens?: boolean;
}

export interface EncodedText {
  ids: number[];
  /** offsets[2*t], offsets[2*t+1] = [start, end) of token t in UTF-16 code units; (0,0) for added BOS. */
  offsets: Int32Array;
}

/** End-of-turn markers of common chat formats; those present as tokens join eosIds. */
export const END_OF_TURN_TOKENS = ["<|im_end|>", "<|eot_id|>", "<|eom_id|>", "<|end|>", "<end_of_turn>"];

function readJson(path: string, what: string): Record<string, unknown> {
  const text = readFileSync(path, "utf8");
  try {
    const value: unknown = JSON.parse(text);
    if (value === null || typeof value !== "object" || Array.isArray(value)) throw new Error("not a JSON object");
    return value as Record<string, unknown>;
  } catch (cause) {
    throw new DataError("TOKENIZE_TOKENIZER_INVALID", `${path} is not valid JSON (${what}): ${String(cause)}`, {
      fix: "Re-download the model's tokenizer files; tokenizer.json must be the Hugging Face `tokenizers` format.",
      cause,
    });
  }
}

/** A special-token field of tokenizer_config.json: a string or an AddedToken object `{content}`. */
function tokenString(value: unknown): string | null {
  if (typeof value === "string") return value;
  if (value && typeof value === "object" && typeof (value as { content?: unknown }).content === "string") {
    return (value as { content: string }).content;
  }
  return null;
}

function generationEosIds(modelDir: string): number[] {
  const path = join(modelDir, "generation_config.json");
  if (!existsSync(path)) return [];
  const eos = readJson(path, "generation_config.json").eos_token_id;
  if (typeof eos === "number") return [eos];
  return Array.isArray(eos) ? eos.filter((v): v is number => typeof v === "number") : [];
}

export function loadTokenizer(modelDir: string): Tokenizer {
  const dir = resolve(modelDir);
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new NotFoundError("TOKENIZE_MODEL_DIR_NOT_FOUND", `model folder ${dir} does not exist`, {
      fix: "Pass --model with a Hugging Face model folder containing tokenizer.json.",
    });
  }
  const tokenizerPath = join(dir, "tokenizer.json");
  if (!existsSync(tokenizerPath)) {
    throw new NotFoundError("TOKENIZE_TOKENIZER_MISSING", `${tokenizerPath} does not exist`, {
      fix: "tunekit needs the fast-tokenizer file tokenizer.json; save it with `AutoTokenizer.from_pretrained(...).save_pretrained(dir)`.",
    });
  }
  const tokenizerBytes = readFileSync(tokenizerPath);
  const tokenizerJson = readJson(tokenizerPath, "tokenizer.json");
  const configPath = join(dir, "tokenizer_config.json");
  const configBytes = existsSync(configPath) ? readFileSync(configPath) : Buffer.alloc(0);
  const config = configBytes.length > 0 ? readJson(configPath, "tokenizer_config.json") : {};

  let rust: RustTokenizer;
  try {
    rust = RustTokenizer.fromString(tokenizerBytes.toString("utf8"));
  } catch (cause) {
    throw new DataError("TOKENIZE_TOKENIZER_INVALID", `${tokenizerPath} could not be loaded: ${String(cause)}`, {
      fix: "Check the file is a complete Hugging Face tokenizer.json (not a slow-tokenizer vocab or a Git LFS pointer).",
      cause,
    });
  }

  const specialTokens: Record<string, number> = {};
  const added = Array.isArray(tokenizerJson.added_tokens) ? tokenizerJson.added_tokens : [];
  for (const token of added as { id?: unknown; content?: unknown; special?: unknown }[]) {
    if (token.special === true && typeof token.content === "string" && typeof token.id === "number") {
      specialTokens[token.content] = token.id;
    }
  }
  const idOf = (token: string | null): number | null => (token === null ? null : rust.tokenToId(token));
  const bosToken = tokenString(config.bos_token);
  const eosToken = tokenString(config.eos_token);
  const bosId = idOf(bosToken);
  const eosId = idOf(eosToken) ?? generationEosIds(dir)[0] ?? null;
  if (bosToken !== null && bosId === null) {
    throw new ConfigError("TOKENIZE_CONFIG_INVALID", `bos_token ${JSON.stringify(bosToken)} is not in the vocabulary of ${tokenizerPath}`, {
      fix: "Fix bos_token in tokenizer_config.json (or remove it) so it names a token of tokenizer.json.",
    });
  }
  const eosIds = new Set<number>();
  if (eosId !== null) eosIds.add(eosId);
  for (const id of generationEosIds(dir)) eosIds.add(id);
  for (const token of END_OF_TURN_TOKENS) if (specialTokens[token] !== undefined) eosIds.add(specialTokens[token]);
  const padId = idOf(tokenString(config.pad_token)) ?? eosId ?? 0;

  const sha = createHash("sha256");
  sha.update(tokenizerBytes);
  sha.update("\0tokenizer_config.json\0");
  sha.update(configBytes);

  const encodeRaw = (text: string, o?: EncodeOptions) => rust.encode(text, null, { addSpecialTokens: o?.addSpecialTokens ?? false });
  const withOffsets = (text: string, encoding: Awaited<ReturnType<typeof encodeRaw>>): EncodedText => {
    const ids = encoding.getIds();
    const raw = encoding.getOffsets();
    const map = codePointToUtf16Map(text);
    const offsets = new Int32Array(ids.length * 2);
    for (let t = 0; t < ids.length; t++) {
      const [start, end] = raw[t];
      offsets[2 * t] = map ? map[start] : start;
      offsets[2 * t + 1] = map ? map[end] : end;
    }
    return { ids, offsets };
  };

  return {
    name: basename(dir),
    modelDir: dir,
    vocabSize: rust.getVocabSize(true),
    bosId,
    bosToken,
    eosId,
    eosToken,
    eosIds: [...eosIds],
    padId,
    specialTokens,
    sha256: sha.digest("hex"),
    config,
    async encode(text, options) {
      return (await encodeRaw(text, options)).getIds();
    },
    async encodeBatch(texts, options) {
      const encodings = await rust.encodeBatch(texts, { addSpecialTokens: options?.addSpecialTokens ?? false });
      return encodings.map((e) => e.getIds());
    },
    async encodeWithOffsets(text, options) {
      return withOffsets(text, await encodeRaw(text, options));
    },
    async encodeBatchWithOffsets(texts, options) {
      const encodings = await rust.encodeBatch(texts, { addSpecialTokens: options?.addSpecialTokens ?? false });
      return encodings.map((e, i) => withOffsets(texts[i], e));
    },
    decode(ids, options) {
      return rust.decode([...ids], options?.skipSpecialTokens ?? false);
    },
    async countTokens(text) {
      return (await encodeRaw(text, { addSpecialTokens: false })).getLength();
    },
    idToToken: (id) => rust.idToToken(id),
    tokenToId: (token) => rust.tokenToId(token),
  };
}
