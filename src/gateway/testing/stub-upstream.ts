import http from "node:http";
import type { AddressInfo } from "node:net";

export interface StubBehaviour {
  /** Fail this many requests first with this status (0 = connection reset). */
  failFirst?: number;
  failStatus?: number;
  /** Retry-After header sent with those failures. */
  failRetryAfter?: string;
  /** Never answer (for timeouts). */
  hang?: boolean;
  /** Reply text; streamed one word per SSE chunk. */
  reply?: string;
  /** Delay between streamed chunks. */
  chunkDelayMs?: number;
  /** Awaited before each streamed chunk after the first: lets a test release chunks one by one. */
  beforeChunk?: (index: number) => Promise<void>;
  /** Fixed delay before answering. */
  delayMs?: number;
}

/**
 * A local OpenAI-compatible upstream (node:http, loopback) implementing the documented chat-completions shapes:
 * JSON responses with usage, SSE chunks ending in `data: [DONE]`. It records every request it received.
 */
export class StubUpstream {
  readonly received: { body: Record<string, unknown>; headers: http.IncomingHttpHeaders }[] = [];
  /** Responses whose client (the gateway) hung up before the response ended, with the chunks sent by then. */
  readonly aborted: { chunksSent: number }[] = [];
  private abortWaiters: (() => void)[] = [];
  /** performance.now() when each request arrived. */
  readonly arrivals: number[] = [];
  private failures = 0;
  private readonly sockets = new Set<import("node:net").Socket>();
  private constructor(private readonly server: http.Server, readonly url: string, public behaviour: StubBehaviour) {}

  static async start(behaviour: StubBehaviour = {}): Promise<StubUpstream> {
    const server = http.createServer();
    server.keepAliveTimeout = 65_000;
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const { port } = server.address() as AddressInfo;
    const stub = new StubUpstream(server, `http://127.0.0.1:${port}/v1`, behaviour);
    server.on("connection", (s) => {
      stub.sockets.add(s);
      s.on("close", () => stub.sockets.delete(s));
    });
    server.on("request", (req, res) => stub.handle(req, res));
    return stub;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = JSON.parse(Buffer.concat(chunks).toString("utf8") || "{}") as Record<string, unknown>;
      this.received.push({ body, headers: req.headers });
      const progress = { chunks: 0 };
      res.on("close", () => {
        if (res.writableEnded) return;
        this.aborted.push({ chunksSent: progress.chunks });
        for (const w of this.abortWaiters.splice(0)) w();
      });
      this.arrivals.push(performance.now());
      const b = this.behaviour;
      if (b.hang) return;
      if ((b.failFirst ?? 0) > this.failures) {
        this.failures += 1;
        if (!b.failStatus) {
          req.socket.destroy();
          return;
        }
        res.writeHead(b.failStatus, { "content-type": "application/json", ...(b.failRetryAfter ? { "retry-after": b.failRetryAfter } : {}) });
        res.end(JSON.stringify({ error: { message: `stub failure ${this.failures}`, type: "server_error" } }));
        return;
      }
      const answer = () => {
        if (res.destroyed) return;
        if (body.stream === true) this.stream(body, res, progress);
        else this.json(body, res);
      };
      if (b.delayMs) setTimeout(answer, b.delayMs);
      else answer();
    });
  }

  private replyFor(body: Record<string, unknown>): string {
    const messages = body.messages as { content: string }[];
    return this.behaviour.reply ?? `echo: ${messages[messages.length - 1]?.content ?? ""}`;
  }

  private json(body: Record<string, unknown>, res: http.ServerResponse): void {
    const text = this.replyFor(body);
    const out = JSON.stringify({
      id: "chatcmpl-stub",
      object: "chat.completion",
      created: 1700000000,
      model: body.model,
      choices: [{ index: 0, message: { role: "assistant", content: text }, finish_reason: "stop" }],
      usage: { prompt_tokens: 10, completion_tokens: text.split(" ").length, total_tokens: 10 + text.split(" ").length },
    });
    res.writeHead(200, { "content-type": "application/json", "content-length": Buffer.byteLength(out) });
    res.end(out);
  }

  private stream(body: Record<string, unknown>, res: http.ServerResponse, progress: { chunks: number }): void {
    const words = this.replyFor(body).split(" ");
    res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({ id: "chatcmpl-stub", object: "chat.completion.chunk", created: 1700000000, model: body.model, choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
    const parts = [chunk({ role: "assistant", content: "" }, null), ...words.map((w, i) => chunk({ content: i === 0 ? w : ` ${w}` }, null)), chunk({}, "stop")];
    const usage = (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage;
    if (usage) parts.push(`data: ${JSON.stringify({ id: "chatcmpl-stub", object: "chat.completion.chunk", created: 1700000000, model: body.model, choices: [], usage: { prompt_tokens: 10, completion_tokens: words.length, total_tokens: 10 + words.length } })}\n\n`);
    parts.push("data: [DONE]\n\n");
    let i = 0;
    const next = () => {
      if (res.destroyed) return; // the client went away: stop generating, as a real upstream does
      if (i >= parts.length) {
        res.end();
        return;
      }
      res.write(parts[i++]);
      progress.chunks = i;
      if (this.behaviour.beforeChunk && i < parts.length) void this.behaviour.beforeChunk(i).then(next);
      else if (this.behaviour.chunkDelayMs) setTimeout(next, this.behaviour.chunkDelayMs);
      else next();
    };
    next();
  }

  /** Resolves once a response has been cut off by its client. */
  waitForAbort(): Promise<void> {
    return this.aborted.length > 0 ? Promise.resolve() : new Promise((r) => this.abortWaiters.push(r));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
