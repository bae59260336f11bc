import { resolve } from "node:path";
import { ConfigError } from "../../errors/index.js";

/**
 * A GGUF loaded in llama.cpp through node-llama-cpp (an optional dependency, imported on first use), generating
 * greedily from prompt token ids. One context with one sequence: requests run one at a time, in order.
 */
type NodeLlamaCpp = typeof import("node-llama-cpp");
type LoadedModel = Awaited<ReturnType<Awaited<ReturnType<NodeLlamaCpp["getLlama"]>>["loadModel"]>>;
type LoadedContext = Awaited<ReturnType<LoadedModel["createContext"]>>;

export const LLAMA_CPP_FIX = "install node-llama-cpp 3.21.1 (npm install --save-exact node-llama-cpp@3.21.1)";

export interface LlamaCppModelOptions {
  path: string;
  contextSize?: number;
  /**
   * CPU threads. llama.cpp's threads spin while they wait, so more threads than free cores makes it crawl on a
   * busy machine; default 4 (or fewer cores).
   */
  threads?: number;
}

export interface LlamaCppGeneration {
  ids: number[];
  text: string;
  finishReason: "stop" | "length";
  seconds: number;
}

async function importNodeLlamaCpp(): Promise<NodeLlamaCpp> {
  try {
    return await import("node-llama-cpp");
  } catch (cause) {
    throw new ConfigError("EVAL_LLAMA_CPP_MISSING", "the llama-cpp candidate needs the node-llama-cpp package, which is not installed", { fix: LLAMA_CPP_FIX, cause });
  }
}

export class LlamaCppModel {
  readonly path: string;
  private loaded: Promise<{ model: LoadedModel; context: LoadedContext }> | null = null;
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly options: LlamaCppModelOptions) {
    this.path = resolve(options.path);
  }

  private load(): Promise<{ model: LoadedModel; context: LoadedContext }> {
    this.loaded ??= (async () => {
      const { getLlama, LlamaLogLevel } = await importNodeLlamaCpp();
      const { availableParallelism } = await import("node:os");
      const threads = this.options.threads ?? Math.min(4, availableParallelism());
      const llama = await getLlama({ gpu: false, build: "never", maxThreads: threads, logLevel: LlamaLogLevel.error });
      const model = await llama.loadModel({ modelPath: this.path });
      const context = await model.createContext({ contextSize: this.options.contextSize ?? Math.min(4096, model.trainContextSize), sequences: 1, threads });
      return { model, context };
    })();
    return this.loaded;
  }

  /** llama.cpp's tokenization of text, special tokens parsed (`<|im_start|>` becomes its id), BOS where the GGUF asks. */
  async tokenize(text: string, addBos: boolean): Promise<number[]> {
    const { model } = await this.load();
    const ids = [...model.tokenize(text, true)];
    return addBos && model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos, ...ids] : ids;
  }

  async chatTemplate(): Promise<{ source: string | null; bos: string | null; eos: string | null }> {
    const { model } = await this.load();
    const source = (model.fileInfo.metadata.tokenizer as { chat_template?: string } | undefined)?.chat_template ?? null;
    return { source, bos: model.tokens.bosString, eos: model.tokens.eosString };
  }

  /** Greedy continuation of `promptIds`: stops at an end-of-generation token, a stop string or maxTokens. */
  generate(promptIds: readonly number[], options: { maxTokens: number; stop?: readonly string[] }): Promise<LlamaCppGeneration> {
    const run = this.chain.then(() => this.generateNow(promptIds, options));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async generateNow(promptIds: readonly number[], options: { maxTokens: number; stop?: readonly string[] }): Promise<LlamaCppGeneration> {
    const { model, context } = await this.load();
    const started = performance.now();
    const sequence = context.getSequence();
    const ids: number[] = [];
    let text = "";
    let finishReason: "stop" | "length" = "length";
    try {
      for await (const token of sequence.evaluate([...promptIds] as never, { temperature: 0 })) {
        if (model.isEogToken(token)) {
          finishReason = "stop";
          break;
        }
        ids.push(token);
        text = model.detokenize(ids as never, false, promptIds.slice(-4) as never);
        const hit = (options.stop ?? []).map((s) => text.indexOf(s)).filter((i) => i >= 0);
        if (hit.length > 0) {
          text = text.slice(0, Math.min(...hit));
          finishReason = "stop";
          break;
        }
        if (ids.length >= options.maxTokens) break;
      }
    } finally {
      await sequence.dispose();
    }
    return { ids, text, finishReason, seconds: (performance.now() - started) / 1000 };
  }

  async close(): Promise<void> {
    const loaded = this.loaded;
    this.loaded = null;
    if (!loaded) return;
    const { model, context } = await loaded;
    await context.dispose();
    await model.dispose();
  }
}
