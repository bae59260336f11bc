import { localModels, type LocalModelLease } from "../../runtime/index.js";
import type { CandidateBackend, ChatMessage, Completion, CompletionRequest } from "./candidate.js";
import { lookupCompletion, type RequestCache } from "./request-cache.js";

/**
 * A local model folder (optionally with a LoRA adapter) generating through the pooled LocalModel of
 * src/runtime: one worker per model folder serves every example (and the gateway or other candidates of the
 * same model in this process); the model stays loaded between calls. Prompt format "chat" (default) renders the
 * messages with the same chat template training uses (the model's own, else chatml, or `template`), with the
 * generation prompt, tokenized by training's rule — a fine-tuned adapter must be asked in the format it learned.
 * "plain" joins the turns as text, for base models without a chat format.
 */
export interface LocalCandidateOptions {
  modelDir: string;
  adapterDir?: string;
  python?: string;
  device?: string;
  readyTimeoutMs?: number;
  stop?: string[];
  cache?: RequestCache;
  promptFormat?: "chat" | "plain";
  /** Chat template: a named one ("chatml") or a .jinja path; default the model's own. */
  template?: string;
}

export function renderPlainPrompt(messages: readonly ChatMessage[]): string {
  const parts: string[] = [];
  for (const m of messages) parts.push(m.role === "assistant" ? `${m.content}\n` : m.content);
  return parts.join("\n");
}

export class LocalCandidate implements CandidateBackend {
  private lease: LocalModelLease | null = null;

  constructor(private readonly options: LocalCandidateOptions) {}

  describe(): Record<string, unknown> {
    return { type: "local", modelDir: this.options.modelDir, adapterDir: this.options.adapterDir ?? null, promptFormat: this.format(), template: this.options.template ?? null };
  }

  private format(): "chat" | "plain" {
    return this.options.promptFormat ?? "chat";
  }

  private acquire(): LocalModelLease {
    this.lease ??= localModels.acquire({ modelDir: this.options.modelDir, device: this.options.device, python: this.options.python, readyTimeoutMs: this.options.readyTimeoutMs });
    return this.lease;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    const entry = lookupCompletion(this.options.cache, { local: this.options.modelDir, adapter: this.options.adapterDir ?? null, format: this.format(), template: this.options.template ?? null, ...request });
    if (entry.hit) return entry.hit;
    const { model } = this.acquire();
    const sampling = {
      adapterDir: this.options.adapterDir,
      maxNewTokens: request.maxTokens,
      temperature: request.temperature,
      seed: request.seed,
      stop: this.options.stop ?? ["\n\n"],
      allowed: request.allowed,
    };
    // The model queues requests itself (its worker serves one at a time), so concurrency above cannot interleave.
    const out =
      this.format() === "plain"
        ? await model.complete(renderPlainPrompt(request.messages), sampling)
        : await model.chat(request.messages, { ...sampling, template: this.options.template });
    return entry.store({ text: out.text.trim(), promptTokens: out.promptTokens, completionTokens: out.completionTokens, latencyMs: out.seconds * 1000, finishReason: out.finishReason }, 1);
  }

  async close(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    await lease?.release();
  }
}
