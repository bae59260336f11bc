import { randomUUID } from "node:crypto";
import type { GatewayRoute } from "../config/sections/gateway.js";
import { MessageSchema } from "../data/record.js";
import { DataError } from "../errors/index.js";
import { loadChatTemplate, type ChatTemplate } from "../tokenize/chat-template.js";
import { toTemplateMessages } from "../tokenize/chat-template.js";
import { loadTokenizer, type Tokenizer } from "../tokenize/load-tokenizer.js";
import { WorkerClient } from "../runtime/worker-client.js";
import type { Backend, BackendResult, StreamSink } from "./upstream.js";
import { z } from "zod";

export interface LocalBackendOptions {
  python: string;
  device?: string;
  readyTimeoutMs?: number;
  /** Replaces the worker command (tests). */
  workerArgs?: string[];
}

/**
 * The local worker behind an OpenAI-shaped endpoint: render the chat with the model's template (src/tokenize),
 * `generate` in the worker (src/train's client; the model stays loaded between calls), decode. The worker returns
 * whole results, so a streamed response is the finished completion sent as one SSE chunk per token — the shape
 * clients expect, but not earlier first tokens.
 */
export class LocalBackend implements Backend {
  private worker: Promise<WorkerClient> | null = null;
  private tokenizer: Tokenizer | null = null;
  private template: ChatTemplate | null = null;
  /** One generate at a time: the worker serves requests in order. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(readonly route: GatewayRoute, private readonly options: LocalBackendOptions) {}

  private prepare(): { tokenizer: Tokenizer; template: ChatTemplate } {
    if (!this.tokenizer) {
      this.tokenizer = loadTokenizer(this.route.modelDir!);
      this.template = loadChatTemplate(this.tokenizer, { template: this.route.template });
    }
    return { tokenizer: this.tokenizer, template: this.template! };
  }

  private client(): Promise<WorkerClient> {
    if (!this.worker) {
      this.worker = WorkerClient.start({ python: this.options.python, readyTimeoutMs: this.options.readyTimeoutMs, args: this.options.workerArgs });
      this.worker.catch(() => (this.worker = null));
    }
    return this.worker.then((w) => (w.alive ? w : ((this.worker = null), this.client())));
  }

  async chat(body: Record<string, unknown>, stream: boolean, sink: StreamSink | null, started: number): Promise<BackendResult> {
    const run = this.chain.then(() => this.generate(body, stream, sink, started));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async generate(body: Record<string, unknown>, stream: boolean, sink: StreamSink | null, started: number): Promise<BackendResult> {
    const parsed = z.array(MessageSchema).safeParse(body.messages);
    if (!parsed.success) {
      throw new DataError("GATEWAY_BAD_MESSAGES", `messages is not a list of chat messages: ${parsed.error.issues[0]?.message}`, {
        fix: "send messages as [{role: 'user', content: '…'}]",
      });
    }
    const { tokenizer, template } = this.prepare();
    const prompt = template.render(toTemplateMessages(parsed.data), { addGenerationPrompt: true });
    const ids = await tokenizer.encode(prompt);
    const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);
    const worker = await this.client();
    const result = await worker.generate({
      model_dir: this.route.modelDir!,
      adapter_dir: this.route.adapterDir ?? null,
      prompts: [ids],
      max_new_tokens: num(body.max_tokens ?? body.max_completion_tokens, this.route.maxNewTokens),
      temperature: num(body.temperature, 0),
      top_p: num(body.top_p, 1),
      seed: typeof body.seed === "number" ? body.seed : null,
      stop_token_ids: [...tokenizer.eosIds],
      ...(this.options.device ? { device: this.options.device } : {}),
    });
    const out = result.outputs[0];
    const content = await tokenizer.decode(out.ids, { skipSpecialTokens: true });
    const ttftMs = performance.now() - started;
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.route.name;
    const usage = { prompt_tokens: result.prompt_tokens, completion_tokens: result.completion_tokens, total_tokens: result.prompt_tokens + result.completion_tokens };
    const base = { status: 200, ttftMs, promptTokens: result.prompt_tokens, completionTokens: result.completion_tokens, output: content, finishReason: out.finish_reason };
    if (stream && sink) {
      sink.begin(200, "text/event-stream");
      const send = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
        sink.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
      send({ role: "assistant", content: "" }, null);
      let previous = "";
      for (let i = 0; i < out.ids.length; i++) {
        const text = await tokenizer.decode(out.ids.slice(0, i + 1), { skipSpecialTokens: true });
        // A token that ends inside a multi-byte character decodes to U+FFFD until the next one completes it.
        if (text.endsWith("\uFFFD") && i < out.ids.length - 1) continue;
        if (text.length > previous.length) send({ content: text.slice(previous.length) }, null);
        previous = text;
      }
      send({}, out.finish_reason, body.stream_options && (body.stream_options as { include_usage?: boolean }).include_usage ? { usage } : {});
      sink.write("data: [DONE]\n\n");
      return base;
    }
    const json = {
      id,
      object: "chat.completion",
      created,
      model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: out.finish_reason }],
      usage,
    };
    return { ...base, body: Buffer.from(JSON.stringify(json)), contentType: "application/json" };
  }

  async close(): Promise<void> {
    const w = await this.worker?.catch(() => null);
    await w?.close();
  }
}
