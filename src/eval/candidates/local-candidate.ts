import { loadChatTemplate } from "../../tokenize/chat-template.js";
import { loadTokenizer } from "../../tokenize/load-tokenizer.js";
import { generateText } from "../../train/generate-text.js";
import { findPython } from "../../train/python.js";
import { WorkerClient } from "../../train/worker-client.js";
import type { CandidateBackend, ChatMessage, Completion, CompletionRequest } from "./candidate.js";
import { RequestCache, requestHash } from "./request-cache.js";

/**
 * A local model folder (optionally with a LoRA adapter) generating through the Python worker (S1's
 * WorkerClient + generateText). One worker serves every example; the model stays loaded between calls.
 * Prompt format "chat" (default) renders the messages with the same chat template training uses (the
 * model's own, else chatml, or `template`), with the generation prompt — a fine-tuned adapter must be asked
 * in the format it learned. "plain" joins the turns as text, for base models without a chat format.
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
  private worker: Promise<WorkerClient> | undefined;
  // The worker answers one request at a time; serialise so concurrency limits above don't interleave.
  private queue: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LocalCandidateOptions) {}

  describe(): Record<string, unknown> {
    return { type: "local", modelDir: this.options.modelDir, adapterDir: this.options.adapterDir ?? null, promptFormat: this.format(), template: this.options.template ?? null };
  }

  private format(): "chat" | "plain" {
    return this.options.promptFormat ?? "chat";
  }

  private renderPrompt(messages: readonly ChatMessage[]): string {
    if (this.format() === "plain") return renderPlainPrompt(messages);
    const template = loadChatTemplate(loadTokenizer(this.options.modelDir), { template: this.options.template });
    return template.render(messages, { addGenerationPrompt: true });
  }

  private startWorker(): Promise<WorkerClient> {
    this.worker ??= (async () => {
      const python = (await findPython({ configured: this.options.python })).python;
      return WorkerClient.start({ python, readyTimeoutMs: this.options.readyTimeoutMs });
    })();
    return this.worker;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    const key = requestHash({ local: this.options.modelDir, adapter: this.options.adapterDir ?? null, format: this.format(), template: this.options.template ?? null, ...request });
    const hit = this.options.cache?.get(key);
    if (hit) return { ...hit, finishReason: hit.finishReason ?? null, cached: true, attempts: 0 };
    const run = this.queue.then(async () => {
      const worker = await this.startWorker();
      const out = await generateText(worker, {
        modelDir: this.options.modelDir,
        adapterDir: this.options.adapterDir,
        prompt: this.renderPrompt(request.messages),
        maxNewTokens: request.maxTokens,
        temperature: request.temperature,
        seed: request.seed,
        stop: this.options.stop ?? ["\n\n"],
        allowed: request.allowed,
        device: this.options.device,
      });
      const value = { text: out.text.trim(), promptTokens: out.promptTokens, completionTokens: out.completionTokens, latencyMs: out.seconds * 1000, finishReason: out.finishReason };
      await this.options.cache?.put(key, value);
      return { ...value, cached: false, attempts: 1 };
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    if (this.worker) await (await this.worker.catch(() => undefined))?.close();
  }
}
