import { resolve } from "node:path";
import type { Message, Tool } from "../data/index.js";
import { buildPrompt, loadChatTemplate, END_OF_TURN_TOKENS, loadTokenizer, type BuiltPrompt, type PromptInput, type ChatTemplate, type Tokenizer } from "../tokenize/index.js";
import { decodeCompletion, generateFromPrompt, type GeneratedText, type SamplingOptions } from "./generate-text.js";
import { ServingWorker, type ServingLimits } from "./serving-worker.js";
import { streamFromPrompt, type StreamPiece } from "./stream-text.js";
import type { WorkerClient } from "./worker-client.js";
import { startWorker } from "./worker-session.js";

/** A model folder on one device, and how to start the worker that serves it. */
export interface LocalModelOptions {
  modelDir: string;
  /** auto (default), cpu, cuda or cuda:N: sent with every generate request. */
  device?: string;
  /** An interpreter to try first (worker.python); then TUNEKIT_PYTHON, python3, /usr/bin/python3. */
  python?: string;
  readyTimeoutMs?: number;
  /** Replaces `-m tunekit_worker` (tests use a fake worker script). */
  workerArgs?: string[];
  onStderr?: (line: string) => void;
  /** The serving worker's slots (stream()): how many requests decode at once, and tokens per request. */
  serving?: ServingLimits;
}

/** How a prompt is rendered: the chat template (a named one or a .jinja path; default the model's own). */
export interface PromptOptions {
  template?: string;
  /** Extra chat-template variables, e.g. `{ enable_thinking: false }`. */
  variables?: Readonly<Record<string, unknown>>;
}

export type LocalSampling = Omit<SamplingOptions, "device">;

/**
 * One local model: its tokenizer, chat templates and the worker process that generates for it. Every prompt is
 * tokenized by the training rule (tokenize/build-example.ts buildPrompt), so eval, the gateway and `tunekit
 * generate` ask the model what it was trained on. Each adapter (and the bare base) gets its own worker: the
 * worker merges an adapter into a copy of the weights and keeps one such model loaded, so one shared worker
 * would reload on every switch of a gateway A/B between two adapters. A worker starts on first use and again if
 * it died; its requests go one at a time, in order, because the worker serves them that way.
 *
 * `stream()` / `streamChat()` use one more worker, in serving mode (serving-worker.ts): requests run concurrently
 * in its continuous batch, every adapter unmerged on the one base, tokens streamed as they are produced.
 */
export class LocalModel {
  readonly modelDir: string;
  readonly device: string;
  private loadedTokenizer: Tokenizer | null = null;
  private readonly templates = new Map<string, ChatTemplate>();
  /** adapter folder ("" = the base alone) → its worker and the queue of its requests. */
  private readonly workers = new Map<string, { worker: Promise<WorkerClient> | null; chain: Promise<unknown> }>();

  private servingWorker: ServingWorker | null = null;

  constructor(private readonly options: LocalModelOptions) {
    this.modelDir = resolve(options.modelDir);
    this.device = options.device ?? "auto";
  }

  /** The serving-mode worker (started on the first stream; adapters registered before it are loaded at once). */
  get serving(): ServingWorker {
    this.servingWorker ??= new ServingWorker(() => this.startClient(), this.modelDir, this.device, this.options.serving);
    return this.servingWorker;
  }

  /** Streams a chat reply through the serving worker (concurrent with other streams); see stream-text.ts. */
  async *streamChat(messages: readonly Message[], options: LocalSampling & PromptOptions & { tools?: readonly Tool[] } = {}, signal?: AbortSignal): AsyncGenerator<StreamPiece> {
    const prompt = await this.prompt({ messages, tools: options.tools }, options);
    const stop = [...new Set([...(options.stop ?? []), ...this.textEndOfTurn(this.chatTemplate(options.template))])];
    yield* this.stream(prompt, { ...options, stop }, signal);
  }

  /** Streams a completion of built prompt ids: text pieces as soon as they are final, then the result. */
  stream(prompt: BuiltPrompt, options: LocalSampling = {}, signal?: AbortSignal): AsyncGenerator<StreamPiece> {
    this.serving.register(options.adapterDir);
    return streamFromPrompt(this.serving, this.tokenizer, prompt, options, signal);
  }

  get tokenizer(): Tokenizer {
    this.loadedTokenizer ??= loadTokenizer(this.modelDir);
    return this.loadedTokenizer;
  }

  chatTemplate(template?: string): ChatTemplate {
    const key = template ?? "";
    let loaded = this.templates.get(key);
    if (!loaded) {
      loaded = loadChatTemplate(this.tokenizer, { template });
      this.templates.set(key, loaded);
    }
    return loaded;
  }

  /** The prompt ids this model is asked with: a chat with its generation prompt, or plain text (with BOS). */
  prompt(input: PromptInput, options: PromptOptions = {}): Promise<BuiltPrompt> {
    const template = "text" in input ? undefined : this.chatTemplate(options.template);
    return buildPrompt(input, { tokenizer: this.tokenizer, template, variables: options.variables });
  }

  /** chat → ids → generate → decode. Also stops at the template's end-of-turn markers that are text, not tokens. */
  async chat(messages: readonly Message[], options: LocalSampling & PromptOptions & { tools?: readonly Tool[] } = {}): Promise<GeneratedText> {
    const prompt = await this.prompt({ messages, tools: options.tools }, options);
    const stop = [...new Set([...(options.stop ?? []), ...this.textEndOfTurn(this.chatTemplate(options.template))])];
    return this.generate(prompt, { ...options, stop });
  }

  /** A plain-text continuation (BOS where the tokenizer adds one, as text records are trained). */
  async complete(text: string, options: LocalSampling = {}): Promise<GeneratedText> {
    return this.generate(await this.prompt({ text }), options);
  }

  /** The text `ids` add after `promptIds` (decoded in context). */
  decodeCompletion(promptIds: readonly number[], ids: readonly number[]): Promise<string> {
    return decodeCompletion(this.tokenizer, promptIds, ids);
  }

  /** Generates from built prompt ids; queued behind the requests already sent to the same adapter's worker. */
  generate(prompt: BuiltPrompt, options: LocalSampling = {}): Promise<GeneratedText> {
    const slot = this.slot(options.adapterDir);
    const run = slot.chain.then(async () => generateFromPrompt(await this.client(slot), this.tokenizer, this.modelDir, prompt, { ...options, device: this.device }));
    slot.chain = run.catch(() => undefined);
    return run;
  }

  /** Shuts the workers down (after their queued requests); a later call starts new ones. */
  async close(): Promise<void> {
    const slots = [...this.workers.values()];
    this.workers.clear();
    const serving = this.servingWorker;
    this.servingWorker = null;
    await serving?.close();
    await Promise.all(
      slots.map(async (slot) => {
        await slot.chain;
        await (await slot.worker?.catch(() => null))?.close();
      }),
    );
  }

  /** The pid of the worker serving this adapter (undefined: the base alone), null when none is running. */
  async workerPid(adapterDir?: string): Promise<number | null> {
    const current = await this.workers.get(slotKey(adapterDir))?.worker?.catch(() => null);
    return current?.alive ? (current.pid ?? null) : null;
  }

  private slot(adapterDir: string | undefined): { worker: Promise<WorkerClient> | null; chain: Promise<unknown> } {
    const key = slotKey(adapterDir);
    let slot = this.workers.get(key);
    if (!slot) {
      slot = { worker: null, chain: Promise.resolve() };
      this.workers.set(key, slot);
    }
    return slot;
  }

  private async client(slot: { worker: Promise<WorkerClient> | null }): Promise<WorkerClient> {
    const current = await slot.worker?.catch(() => null);
    if (current?.alive) return current;
    // None yet, it failed to start, or it died (a crash is reported to the request it broke): start another.
    const started = this.startClient();
    slot.worker = started;
    return started;
  }

  private startClient(): Promise<WorkerClient> {
    return startWorker(
      { worker: { python: this.options.python, device: "auto", readyTimeoutMs: this.options.readyTimeoutMs ?? 120_000 } },
      { args: this.options.workerArgs, onStderr: this.options.onStderr },
    );
  }

  /** End-of-turn strings the template writes that this tokenizer has no token for (chatml on stories260k). */
  private textEndOfTurn(template: ChatTemplate): string[] {
    return END_OF_TURN_TOKENS.filter((marker) => template.source.includes(marker) && this.tokenizer.tokenToId(marker) === null);
  }
}

function slotKey(adapterDir: string | undefined): string {
  return adapterDir ? resolve(adapterDir) : "";
}
