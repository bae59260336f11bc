import { randomUUID } from "node:crypto";
import type { GatewayRoute } from "../config/index.js";
import { MessageSchema } from "../data/index.js";
import { DataError } from "../errors/index.js";
import { localModels, type LocalModelLease } from "../runtime/index.js";
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
 * The local worker behind an OpenAI-shaped endpoint: the pooled LocalModel of src/runtime renders the chat with
 * the route's template, tokenizes it by training's rule, generates in the worker (the model stays loaded between
 * calls, shared with anything else in this process using the same model) and decodes. The worker returns whole
 * results, so a streamed response is the finished completion sent as one SSE chunk per token — the shape clients
 * expect, but not earlier first tokens.
 */
export class LocalBackend implements Backend {
  private lease: LocalModelLease | null = null;

  constructor(readonly route: GatewayRoute, private readonly options: LocalBackendOptions) {}

  private acquire(): LocalModelLease {
    this.lease ??= localModels.acquire({ modelDir: this.route.modelDir!, device: this.options.device, python: this.options.python, readyTimeoutMs: this.options.readyTimeoutMs, workerArgs: this.options.workerArgs });
    return this.lease;
  }

  async chat(body: Record<string, unknown>, stream: boolean, sink: StreamSink | null, started: number): Promise<BackendResult> {
    const parsed = z.array(MessageSchema).safeParse(body.messages);
    if (!parsed.success) {
      throw new DataError("GATEWAY_BAD_MESSAGES", `messages is not a list of chat messages: ${parsed.error.issues[0]?.message}`, {
        fix: "send messages as [{role: 'user', content: '…'}]",
      });
    }
    const { model } = this.acquire();
    const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);
    // The model queues requests (its worker serves one at a time).
    const out = await model.chat(parsed.data, {
      template: this.route.template,
      adapterDir: this.route.adapterDir,
      maxNewTokens: num(body.max_tokens ?? body.max_completion_tokens, this.route.maxNewTokens),
      temperature: num(body.temperature, 0),
      topP: num(body.top_p, 1),
      seed: typeof body.seed === "number" ? body.seed : undefined,
    });
    const content = out.text;
    const ttftMs = performance.now() - started;
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const name = this.route.name;
    const usage = { prompt_tokens: out.promptTokens, completion_tokens: out.completionTokens, total_tokens: out.promptTokens + out.completionTokens };
    const base = { status: 200, ttftMs, promptTokens: out.promptTokens, completionTokens: out.completionTokens, output: content, finishReason: out.finishReason };
    if (stream && sink) {
      sink.begin(200, "text/event-stream");
      const send = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
        sink.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: name, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
      send({ role: "assistant", content: "" }, null);
      let sent = 0;
      for (let i = 0; i < out.ids.length; i++) {
        const text = await model.decodeCompletion(out.promptIds, out.ids.slice(0, i + 1));
        // A token that ends inside a multi-byte character decodes to U+FFFD until the next one completes it.
        if (text.endsWith("\uFFFD") && i < out.ids.length - 1) continue;
        // Never past the final content: a stop marker's own tokens are cut from it.
        const upTo = Math.min(text.length, content.length);
        if (upTo > sent) send({ content: content.slice(sent, upTo) }, null);
        sent = Math.max(sent, upTo);
      }
      if (sent < content.length) send({ content: content.slice(sent) }, null);
      send({}, out.finishReason, body.stream_options && (body.stream_options as { include_usage?: boolean }).include_usage ? { usage } : {});
      sink.write("data: [DONE]\n\n");
      return base;
    }
    const json = {
      id,
      object: "chat.completion",
      created,
      model: name,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: out.finishReason }],
      usage,
    };
    return { ...base, body: Buffer.from(JSON.stringify(json)), contentType: "application/json" };
  }

  async close(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    await lease?.release();
  }
}
