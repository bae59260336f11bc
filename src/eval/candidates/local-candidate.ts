import { generateText } from "../../train/generate-text.js";
import { findPython } from "../../train/python.js";
import { WorkerClient } from "../../train/worker-client.js";
import type { CandidateBackend, ChatMessage, Completion, CompletionRequest } from "./candidate.js";
import { RequestCache, requestHash } from "./request-cache.js";

/**
 * A local model folder (optionally with a LoRA adapter) generating through the Python worker (S1's
 * WorkerClient + generateText). One worker serves every example; the model stays loaded between calls.
 * Messages are rendered as plain text (system, few-shot turns, then the input), one turn per paragraph,
 * ending with the assistant cue — the base models we run locally may have no chat template.
 */
export interface LocalCandidateOptions {
  modelDir: string;
  adapterDir?: string;
  python?: string;
  device?: string;
  readyTimeoutMs?: number;
  stop?: string[];
  cache?: RequestCache;
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
    return { type: "local", modelDir: this.options.modelDir, adapterDir: this.options.adapterDir ?? null, prompt: "plain-text rendering" };
  }

  private startWorker(): Promise<WorkerClient> {
    this.worker ??= (async () => {
      const python = (await findPython({ configured: this.options.python })).python;
      return WorkerClient.start({ python, readyTimeoutMs: this.options.readyTimeoutMs });
    })();
    return this.worker;
  }

  async complete(request: CompletionRequest): Promise<Completion> {
    const key = requestHash({ local: this.options.modelDir, adapter: this.options.adapterDir ?? null, ...request });
    const hit = this.options.cache?.get(key);
    if (hit) return { ...hit, cached: true, attempts: 0 };
    const run = this.queue.then(async () => {
      const worker = await this.startWorker();
      const out = await generateText(worker, {
        modelDir: this.options.modelDir,
        adapterDir: this.options.adapterDir,
        prompt: renderPlainPrompt(request.messages),
        maxNewTokens: request.maxTokens,
        temperature: request.temperature,
        seed: request.seed,
        stop: this.options.stop ?? ["\n\n"],
        device: this.options.device,
      });
      const value = { text: out.text.trim(), promptTokens: out.promptTokens, completionTokens: out.completionTokens, latencyMs: out.seconds * 1000 };
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
