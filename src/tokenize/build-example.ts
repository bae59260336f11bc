import { isChatRecord, isTextRecord, type DatasetRecord, type Message, type Tool } from "../data/index.js";
import { DataError } from "../errors/index.js";
import { toTemplateMessages, type ChatTemplate } from "./chat-template.js";
import { END_OF_TURN_TOKENS, type EncodedText, type Tokenizer } from "./load-tokenizer.js";
import { renderConversation, type RenderWarning, type TrainedSpan } from "./render-spans.js";

export type TrainOn = "assistant" | "all";

export interface ExampleOptions {
  tokenizer: Tokenizer;
  template: ChatTemplate;
  /** "assistant" (default): assistant turns only, end-of-turn token included; "all": every token. */
  trainOn?: TrainOn;
  /** Extra chat-template variables, e.g. `{ enable_thinking: false }`. */
  variables?: Readonly<Record<string, unknown>>;
}

/** A record rendered to text with its trained character spans, before tokenization. */
export interface PreparedExample {
  kind: "chat" | "text";
  text: string;
  /** null = every token is trained (text records, trainOn "all"). */
  spans: TrainedSpan[] | null;
  /** Text records get the tokenizer's BOS (post-processor) and an appended EOS; chat templates carry their own. */
  addSpecialTokens: boolean;
  appendEos: boolean;
  warnings: RenderWarning[];
}

export interface TokenizedExample {
  kind: "chat" | "text";
  text: string;
  ids: number[];
  /** 1 = token is a training target. */
  mask: Uint8Array;
  /** [start, end) of token t at offsets[2t], offsets[2t+1], UTF-16 code units of `text`. */
  offsets: Int32Array;
  spans: TrainedSpan[] | null;
  warnings: RenderWarning[];
}

/**
 * The one BOS rule, for training and inference alike: text is encoded with the tokenizer's post-processor tokens
 * (stories260k/Llama add BOS there); a chat is not, because chat templates write their own (`{{ bos_token }}`),
 * and adding the tokenizer's too starts the sequence with BOS twice.
 */
export function addsSpecialTokens(kind: "chat" | "text"): boolean {
  return kind === "text";
}

/** What a model is asked at inference: a chat (rendered with its generation prompt) or plain text to continue. */
export type PromptInput = { messages: readonly Message[]; tools?: readonly Tool[] } | { text: string };

export interface BuiltPrompt {
  kind: "chat" | "text";
  /** The rendered text the ids encode. */
  text: string;
  ids: number[];
}

/**
 * Tokenizes an inference prompt exactly as training tokenizes the same text: a chat's prompt is the rendering
 * training masks against (render(messages, add_generation_prompt=true), see renderConversation), so its ids are
 * the ids a trained example has before the assistant's first trained token; text gets BOS and no EOS.
 */
export async function buildPrompt(input: PromptInput, options: Pick<ExampleOptions, "tokenizer" | "variables"> & { template?: ChatTemplate }): Promise<BuiltPrompt> {
  if ("text" in input) {
    return { kind: "text", text: input.text, ids: await options.tokenizer.encode(input.text, { addSpecialTokens: addsSpecialTokens("text") }) };
  }
  if (!options.template) throw new Error("buildPrompt: a chat prompt needs the chat template");
  const text = options.template.render(toTemplateMessages(input.messages), { tools: input.tools, addGenerationPrompt: true, variables: options.variables });
  return { kind: "chat", text, ids: await options.tokenizer.encode(text, { addSpecialTokens: addsSpecialTokens("chat") }) };
}

export function prepareExample(record: DatasetRecord, options: ExampleOptions): PreparedExample {
  const trainOn = options.trainOn ?? "assistant";
  if (isTextRecord(record)) {
    return { kind: "text", text: record.text, spans: null, addSpecialTokens: addsSpecialTokens("text"), appendEos: true, warnings: [] };
  }
  if (!isChatRecord(record)) {
    throw new DataError("TOKENIZE_RECORD_UNSUPPORTED", "preference records cannot be compiled for supervised fine-tuning", {
      fix: "Compile chat or text records for sft; preference pairs train with objective dpo or orpo (compiled by compilePreferenceShards into paired rows).",
    });
  }
  const { tokenizer } = options;
  const endOfTurn = [...new Set([tokenizer.eosToken ?? "", ...END_OF_TURN_TOKENS].filter((t) => t.length > 0))];
  const rendered = renderConversation(record, { template: options.template, endOfTurn, variables: options.variables });
  return {
    kind: "chat",
    text: rendered.text,
    spans: trainOn === "all" ? null : rendered.spans,
    addSpecialTokens: addsSpecialTokens("chat"),
    appendEos: false,
    warnings: rendered.warnings,
  };
}

/** Maps trained character spans onto the tokens of one tokenization of the whole text. */
export function finishExample(prepared: PreparedExample, encoded: EncodedText, tokenizer: Tokenizer): TokenizedExample {
  const ids = [...encoded.ids];
  let offsets = encoded.offsets;
  if (prepared.appendEos && tokenizer.eosId !== null && ids[ids.length - 1] !== tokenizer.eosId) {
    ids.push(tokenizer.eosId);
    offsets = new Int32Array(offsets.length + 2);
    offsets.set(encoded.offsets);
    offsets[offsets.length - 2] = offsets[offsets.length - 1] = prepared.text.length;
  }
  const mask = new Uint8Array(ids.length);
  const warnings = [...prepared.warnings];
  if (prepared.spans === null) {
    mask.fill(1);
  } else {
    const trainedPerSpan = new Array<number>(prepared.spans.length).fill(0);
    let s = 0;
    for (let t = 0; t < ids.length; t++) {
      const start = offsets[2 * t];
      const end = offsets[2 * t + 1];
      if (end <= start) continue; // added tokens without text (a post-processor BOS)
      while (s < prepared.spans.length && prepared.spans[s].end <= start) s++;
      if (s >= prepared.spans.length) break;
      const span = prepared.spans[s];
      if (start >= span.start && start < span.end) {
        mask[t] = 1;
        trainedPerSpan[s]++;
      } else if (start < span.start && end > span.start) {
        // One token covers scaffolding and the turn's first characters: at inference the prompt ends at the
        // boundary, so this token is never produced; leave it untrained and say so.
        warnings.push({
          code: "boundary_straddle",
          turn: span.message,
          message: `assistant message ${span.message}: token ${t} (${JSON.stringify(prepared.text.slice(start, end))}) spans the prompt/answer boundary and is not trained`,
        });
      }
    }
    prepared.spans.forEach((span, i) => {
      if (trainedPerSpan[i] === 0) {
        warnings.push({ code: "zero_trained_turn", turn: span.message, message: `assistant message ${span.message} has no trained tokens` });
      }
    });
    if (prepared.spans.length > 0 && !ids.some((id, t) => mask[t] === 1 && tokenizer.eosIds.includes(id))) {
      warnings.push({
        code: "no_end_of_turn",
        message: `no trained token is an EOS/end-of-turn token (${tokenizer.eosIds.map((id) => tokenizer.idToToken(id)).join(", ") || "the tokenizer has none"}); the model will not learn to stop`,
      });
    }
  }
  if (tokenizer.bosId !== null && ids.length > 1 && ids[0] === tokenizer.bosId && ids[1] === tokenizer.bosId) {
    warnings.push({ code: "doubled_bos", message: `the example starts with BOS twice (${tokenizer.bosToken}); the template and the tokenizer both add it` });
  }
  return { kind: prepared.kind, text: prepared.text, ids, mask, offsets, spans: prepared.spans, warnings };
}

/** Renders and tokenizes records; one batched encode call (Rust threads use every core). */
export async function buildExamples(records: readonly DatasetRecord[], options: ExampleOptions): Promise<TokenizedExample[]> {
  const prepared = records.map((record) => prepareExample(record, options));
  const out: TokenizedExample[] = new Array(prepared.length);
  for (const addSpecialTokens of [false, true]) {
    const indices = prepared.flatMap((p, i) => (p.addSpecialTokens === addSpecialTokens ? [i] : []));
    if (indices.length === 0) continue;
    const encoded = await options.tokenizer.encodeBatchWithOffsets(indices.map((i) => prepared[i].text), { addSpecialTokens });
    indices.forEach((i, j) => (out[i] = finishExample(prepared[i], encoded[j], options.tokenizer)));
  }
  return out;
}

export async function buildExample(record: DatasetRecord, options: ExampleOptions): Promise<TokenizedExample> {
  return (await buildExamples([record], options))[0];
}
