import http from "node:http";
import https from "node:https";
import type { GatewayRoute } from "../config/index.js";
import { SseUsageParser } from "./sse-usage.js";
import { isRetryableStatus, parseRetryAfterMs } from "../runtime/index.js";

/** Where a streamed response goes: the client connection, opened on the first upstream byte. */
export interface StreamSink {
  begin(status: number, contentType: string): void;
  write(chunk: Buffer | string): void;
  /** True once anything reached the client: no retry or fallback is possible after that. */
  readonly started: boolean;
}

export interface BackendResult {
  status: number;
  /** Non-streaming: the response body to send (bytes from the upstream, or JSON built locally). */
  body?: Buffer;
  contentType?: string;
  ttftMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  output: string | null;
  finishReason: string | null;
}

/** A failed attempt; `retryable` for 429, 5xx, timeouts and connection errors. */
export class AttemptError extends Error {
  /** `retryAfterMs`: the upstream's Retry-After, honoured by the retry policy (src/runtime/retry.ts). */
  constructor(message: string, readonly retryable: boolean, readonly status: number | null, readonly code: string, readonly body?: Buffer, readonly retryAfterMs?: number) {
    super(message);
  }
}

export interface Backend {
  readonly route: GatewayRoute;
  /** `signal` aborts the backend's work when the client goes away (the upstream request is cancelled). */
  chat(body: Record<string, unknown>, stream: boolean, sink: StreamSink | null, started: number, signal?: AbortSignal): Promise<BackendResult>;
  close(): Promise<void>;
}

/**
 * Any OpenAI-compatible upstream (OpenAI, vLLM, Ollama, a fine-tuned hosted model). One keep-alive agent per
 * route; the upstream key comes from the env var the route names and is only ever put in the Authorization
 * header. Streaming bytes are written to the client as they arrive (no re-framing); an SSE parser beside the
 * pipe only collects the text and usage for the log.
 */
export class OpenAiUpstream implements Backend {
  private readonly agent: http.Agent;
  private readonly url: URL;
  private readonly client: typeof http | typeof https;
  private readonly authorization: string | undefined;

  constructor(readonly route: GatewayRoute, env: NodeJS.ProcessEnv = process.env) {
    this.url = new URL(`${route.baseUrl!.replace(/\/$/, "")}/chat/completions`);
    this.client = this.url.protocol === "https:" ? https : http;
    this.agent = new this.client.Agent({ keepAlive: true, maxSockets: 512, keepAliveMsecs: 10_000 });
    const key = route.apiKeyEnv ? env[route.apiKeyEnv] : undefined;
    this.authorization = key ? `Bearer ${key}` : undefined;
  }

  chat(body: Record<string, unknown>, stream: boolean, sink: StreamSink | null, started: number, signal?: AbortSignal): Promise<BackendResult> {
    const payload = Buffer.from(JSON.stringify({ ...body, model: this.route.model ?? this.route.name }));
    const headers: http.OutgoingHttpHeaders = { "content-type": "application/json", "content-length": payload.length, accept: stream ? "text/event-stream" : "application/json" };
    if (this.authorization) headers.authorization = this.authorization;
    return new Promise<BackendResult>((resolve, reject) => {
      let settled = false;
      const fail = (e: AttemptError) => {
        if (settled) return;
        settled = true;
        reject(e);
      };
      // Aborting destroys the upstream socket: the upstream sees its client disconnect and can stop generating.
      const req = this.client.request(this.url, { method: "POST", headers, agent: this.agent, signal }, (res) => {
        const status = res.statusCode ?? 502;
        let ttftMs: number | null = null;
        if (status !== 200) {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const b = Buffer.concat(chunks);
            const retryable = isRetryableStatus(status);
            fail(new AttemptError(`upstream ${this.route.name} answered HTTP ${status}`, retryable, status, retryable ? "GATEWAY_UPSTREAM_STATUS" : "GATEWAY_UPSTREAM_REJECTED", b, parseRetryAfterMs(res.headers["retry-after"])));
          });
          res.on("error", (e) => fail(new AttemptError(`upstream ${this.route.name}: ${e.message}`, true, null, "GATEWAY_UPSTREAM_CONNECTION")));
          return;
        }
        if (stream && sink) {
          const parser = new SseUsageParser();
          res.on("data", (c: Buffer) => {
            if (ttftMs === null) {
              ttftMs = performance.now() - started;
              sink.begin(200, res.headers["content-type"] ?? "text/event-stream");
            }
            sink.write(c);
            parser.push(c);
          });
          res.on("end", () => {
            settled = true;
            const u = parser.result();
            resolve({ status, ttftMs, promptTokens: u.promptTokens, completionTokens: u.completionTokens, output: u.text, finishReason: u.finishReason });
          });
        } else {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => {
            if (ttftMs === null) ttftMs = performance.now() - started;
            chunks.push(c);
          });
          res.on("end", () => {
            settled = true;
            const b = Buffer.concat(chunks);
            const parsed = parseCompletion(b);
            resolve({ status, body: b, contentType: res.headers["content-type"] ?? "application/json", ttftMs, ...parsed });
          });
        }
        res.on("error", (e) => fail(new AttemptError(`upstream ${this.route.name} broke off: ${e.message}`, !sink?.started, null, "GATEWAY_UPSTREAM_CONNECTION")));
        res.on("close", () => {
          if (!res.complete) fail(new AttemptError(`upstream ${this.route.name} broke off the response`, !sink?.started, null, "GATEWAY_UPSTREAM_CONNECTION"));
        });
        res.on("aborted", () => fail(new AttemptError(`upstream ${this.route.name} broke off the response`, !sink?.started, null, "GATEWAY_UPSTREAM_CONNECTION")));
      });
      req.setTimeout(this.route.timeoutMs, () => {
        req.destroy();
        fail(new AttemptError(`upstream ${this.route.name} sent nothing for ${this.route.timeoutMs} ms`, !sink?.started, null, "GATEWAY_UPSTREAM_TIMEOUT"));
      });
      req.on("error", (e: NodeJS.ErrnoException) =>
        fail(new AttemptError(`cannot reach upstream ${this.route.name} (${this.url.origin}): ${e.code ?? e.message}`, !sink?.started, null, "GATEWAY_UPSTREAM_CONNECTION")),
      );
      req.end(payload);
    });
  }

  async close(): Promise<void> {
    this.agent.destroy();
  }
}

function parseCompletion(body: Buffer): Pick<BackendResult, "promptTokens" | "completionTokens" | "output" | "finishReason"> {
  try {
    const json = JSON.parse(body.toString("utf8")) as {
      usage?: { prompt_tokens?: number; completion_tokens?: number };
      choices?: { message?: { content?: string | null }; finish_reason?: string }[];
    };
    const choice = json.choices?.[0];
    return {
      promptTokens: json.usage?.prompt_tokens ?? null,
      completionTokens: json.usage?.completion_tokens ?? null,
      output: choice?.message?.content ?? null,
      finishReason: choice?.finish_reason ?? null,
    };
  } catch {
    return { promptTokens: null, completionTokens: null, output: null, finishReason: null };
  }
}
