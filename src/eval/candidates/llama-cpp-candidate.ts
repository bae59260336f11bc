import { loadChatTemplate, toTemplateMessages, type ChatTemplate, type Tokenizer } from "../../tokenize/index.js";
import { localModels, type LocalModelLease } from "../../runtime/index.js";
import { ConfigError } from "../../errors/index.js";
import type { CandidateBackend, Completion, CompletionRequest } from "./candidate.js";
import { renderPlainPrompt } from "./local-candidate.js";
import { LlamaCppModel } from "./llama-cpp-model.js";
import { lookupCompletion, type RequestCache } from "./request-cache.js";

/**
 * An exported GGUF answering through llama.cpp (node-llama-cpp), greedy. Prompt formats:
 * - "gguf" (default): what a llama.cpp server or Ollama does with this file: the chat template carried in the
 *   GGUF (`tokenizer.chat_template`) renders the messages, llama.cpp's tokenizer encodes them. A copy exported
 *   with the wrong template, or whose tokenizer metadata drifted, answers differently from the trained model:
 *   this is what the quality gate after export measures.
 * - "tunekit": the prompt ids tunekit itself builds from `modelDir` (its tokenizer and chat template, or
 *   `template`), exactly those of the local candidate; differences are then the weights' alone (quantisation).
 * - "plain": the turns joined as text, tokenized by llama.cpp (BOS where the GGUF asks).
 */
export interface LlamaCppCandidateOptions {
  path: string;
  promptFormat?: "gguf" | "tunekit" | "plain";
  /** The trained model's folder: needed by promptFormat "tunekit". */
  modelDir?: string;
  template?: string;
  stop?: string[];
  threads?: number;
  contextSize?: number;
  cache?: RequestCache;
}

export class LlamaCppCandidate implements CandidateBackend {
  private readonly model: LlamaCppModel;
  private ggufTemplate: Promise<ChatTemplate> | null = null;
  /** promptFormat tunekit: the trained folder's pooled LocalModel (its tokenizer and templates; no worker starts). */
  private lease: LocalModelLease | null = null;

  constructor(private readonly options: LlamaCppCandidateOptions) {
    this.model = new LlamaCppModel({ path: options.path, threads: options.threads, contextSize: options.contextSize });
    if (this.format() === "tunekit" && !options.modelDir) {
      throw new ConfigError("EVAL_LLAMA_CPP_NO_MODEL_DIR", `llama-cpp candidate ${options.path}: promptFormat "tunekit" needs modelDir`, {
        fix: "set modelDir to the trained model's folder (its tokenizer and chat template build the prompt), or use promptFormat gguf",
      });
    }
  }

  private format(): "gguf" | "tunekit" | "plain" {
    return this.options.promptFormat ?? "gguf";
  }

  describe(): Record<string, unknown> {
    return { type: "llama-cpp", path: this.model.path, promptFormat: this.format(), modelDir: this.options.modelDir ?? null, template: this.options.template ?? null };
  }

  /** The GGUF's own template, rendered by tunekit's Jinja engine with the GGUF's bos/eos strings. */
  private templateOfGguf(): Promise<ChatTemplate> {
    this.ggufTemplate ??= this.model.chatTemplate().then(({ source, bos, eos }) => {
      if (source === null) {
        throw new ConfigError("EVAL_LLAMA_CPP_NO_TEMPLATE", `${this.model.path} carries no chat template (tokenizer.chat_template)`, {
          fix: 'export it with a chat template, or use promptFormat "plain" or "tunekit"',
        });
      }
      // loadChatTemplate reads only the template and the special token strings of a tokenizer's config.
      const carrier = { modelDir: "", config: { chat_template: source, bos_token: bos ?? "", eos_token: eos ?? "" } } as unknown as Tokenizer;
      return loadChatTemplate(carrier);
    });
    return this.ggufTemplate;
  }

  private async promptIds(request: CompletionRequest): Promise<number[]> {
    if (this.format() === "plain") return this.model.tokenize(renderPlainPrompt(request.messages), true);
    if (this.format() === "gguf") {
      const text = (await this.templateOfGguf()).render(toTemplateMessages(request.messages), { addGenerationPrompt: true });
      return this.model.tokenize(text, false);
    }
    this.lease ??= localModels.acquire({ modelDir: this.options.modelDir! });
    const prompt = await this.lease.model.prompt({ messages: request.messages }, { template: this.options.template });
    return [...prompt.ids];
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    if (request.allowed) {
      throw new ConfigError("EVAL_LLAMA_CPP_CONSTRAIN", "the llama-cpp candidate does not constrain answers to labels", { fix: "remove constrain from this candidate" });
    }
    const entry = lookupCompletion(this.options.cache, { llamaCpp: this.model.path, format: this.format(), modelDir: this.options.modelDir ?? null, template: this.options.template ?? null, ...request });
    if (entry.hit) return entry.hit;
    const ids = await this.promptIds(request);
    const out = await this.model.generate(ids, { maxTokens: request.maxTokens, stop: this.options.stop ?? ["\n\n"] });
    return entry.store({ text: out.text.trim(), promptTokens: ids.length, completionTokens: out.ids.length, latencyMs: out.seconds * 1000, finishReason: out.finishReason }, 1);
  }

  async close(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    await lease?.release();
    await this.model.close();
  }
}

