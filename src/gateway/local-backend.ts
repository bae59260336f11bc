import { randomUUID } from "node:crypto";
import type { GatewayRoute } from "../config/index.js";
import { MessageSchema, ToolSchema } from "../data/index.js";
import { DataError } from "../errors/index.js";
import { localModels, type LocalModelLease, type StreamedText } from "../runtime/index.js";
import { parseToolCalls, streamableContent, type ResponseToolCall } from "./tool-calls.js";
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
 * the route's template (and the request's `tools`), tokenizes it by training's rule and streams it from the
 * model's serving worker (runtime/serving-worker.ts): requests run concurrently in the worker's continuous
 * batch, a streamed response's first chunk leaves as soon as the first token is decoded, and a client that goes
 * away cancels its request in the worker (its KV slot is freed at the next step). Routes over one base model
 * share one worker; the route's adapter is chosen per request. Tool calls in the template's format
 * (tool-calls.ts) come back as OpenAI `tool_calls` with finish_reason "tool_calls".
 */
export class LocalBackend implements Backend {
  private lease: LocalModelLease | null = null;

  constructor(readonly route: GatewayRoute, private readonly options: LocalBackendOptions) {
    // Known before the first request, so serving starts once with every route's adapter (no worker starts here).
    this.acquire().model.serving.register(route.adapterDir);
  }

  private acquire(): LocalModelLease {
    this.lease ??= localModels.acquire({ modelDir: this.route.modelDir!, device: this.options.device, python: this.options.python, readyTimeoutMs: this.options.readyTimeoutMs, workerArgs: this.options.workerArgs });
    return this.lease;
  }

  async chat(body: Record<string, unknown>, stream: boolean, sink: StreamSink | null, started: number, signal?: AbortSignal): Promise<BackendResult> {
    const parsed = z.array(MessageSchema).safeParse(body.messages);
    if (!parsed.success) {
      throw new DataError("GATEWAY_BAD_MESSAGES", `messages is not a list of chat messages: ${parsed.error.issues[0]?.message}`, {
        fix: "send messages as [{role: 'user', content: '…'}]",
      });
    }
    const tools = z.array(ToolSchema).optional().safeParse(body.tools ?? undefined);
    if (!tools.success) {
      throw new DataError("GATEWAY_BAD_TOOLS", `tools is not a list of function tools: ${tools.error.issues[0]?.message} (got ${JSON.stringify(body.tools).slice(0, 200)})`, {
        fix: "send tools as [{type: 'function', function: {name, description?, parameters?}}]",
      });
    }
    const withTools = (tools.data?.length ?? 0) > 0 && body.tool_choice !== "none";
    const { model } = this.acquire();
    const num = (v: unknown, d: number) => (typeof v === "number" ? v : d);
    const pieces = model.streamChat(
      parsed.data,
      {
        template: this.route.template,
        adapterDir: this.route.adapterDir,
        tools: withTools ? tools.data : undefined,
        maxNewTokens: num(body.max_tokens ?? body.max_completion_tokens, this.route.maxNewTokens),
        temperature: num(body.temperature, 0),
        topP: num(body.top_p, 1),
        seed: typeof body.seed === "number" ? body.seed : undefined,
      },
      signal,
    );
    const id = `chatcmpl-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const name = this.route.name;
    const sse = stream && sink ? sink : null;
    const send = (delta: Record<string, unknown>, finish: string | null, extra: Record<string, unknown> = {}) =>
      sse!.write(`data: ${JSON.stringify({ id, object: "chat.completion.chunk", created, model: name, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`);
    let ttftMs: number | null = null;
    let text = "";
    let sent = 0; // content characters already streamed
    let out: StreamedText | null = null;
    for await (const piece of pieces) {
      if (piece.type === "done") {
        out = piece.result;
        break;
      }
      ttftMs ??= performance.now() - started;
      text += piece.text;
      if (!sse) continue;
      if (!sse.started) {
        // Opened on the first token: an error before it is still an ordinary error response (or a fallback).
        sse.begin(200, "text/event-stream");
        send({ role: "assistant", content: "" }, null);
      }
      const upTo = withTools ? streamableContent(text) : text.length;
      if (upTo > sent) send({ content: text.slice(sent, upTo) }, null);
      sent = Math.max(sent, upTo);
    }
    if (!out) throw new Error("local model stream ended without a result");
    ttftMs ??= performance.now() - started;
    const reply = withTools ? parseToolCalls(out.text) : { content: out.text, toolCalls: [] as ResponseToolCall[] };
    const finishReason = reply.toolCalls.length ? "tool_calls" : out.finishReason;
    const usage = { prompt_tokens: out.promptTokens, completion_tokens: out.completionTokens, total_tokens: out.promptTokens + out.completionTokens };
    const base = { status: 200, ttftMs, promptTokens: out.promptTokens, completionTokens: out.completionTokens, output: out.text, finishReason };
    if (sse) {
      if (!sse.started) {
        sse.begin(200, "text/event-stream");
        send({ role: "assistant", content: "" }, null);
      }
      const content = reply.content ?? "";
      // Held text (a call's surroundings) goes out now; what was streamed is never taken back.
      if (content.length > sent && content.startsWith(text.slice(0, sent))) send({ content: content.slice(sent) }, null);
      reply.toolCalls.forEach((call, index) => send({ tool_calls: [{ index, ...call }] }, null));
      const includeUsage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
      send({}, finishReason, includeUsage ? { usage } : {});
      sse.write("data: [DONE]\n\n");
      return base;
    }
    const message = reply.toolCalls.length ? { role: "assistant", content: reply.content, tool_calls: reply.toolCalls } : { role: "assistant", content: reply.content };
    const json = { id, object: "chat.completion", created, model: name, choices: [{ index: 0, message, finish_reason: finishReason }], usage };
    return { ...base, body: Buffer.from(JSON.stringify(json)), contentType: "application/json" };
  }

  async close(): Promise<void> {
    const lease = this.lease;
    this.lease = null;
    await lease?.release();
  }
}
