import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * A local HTTP server implementing OpenAI's chat-completions shape (POST /v1/chat/completions) for tests.
 * `answer` gets the parsed request body and returns the assistant text, or `{ status }` to fail the call.
 */
export interface StubRequest {
  model: string;
  messages: { role: string; content: string }[];
  max_tokens?: number;
  temperature?: number;
}
export type StubAnswer = string | { status: number; retryAfter?: number; body?: unknown };

export interface ChatStubServer {
  url: string;
  calls: StubRequest[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function words(messages: StubRequest["messages"]): number {
  return messages.reduce((n, m) => n + m.content.split(/\s+/).filter(Boolean).length, 0);
}

export async function startChatStub(answer: (req: StubRequest, callIndex: number) => StubAnswer | Promise<StubAnswer>): Promise<ChatStubServer> {
  const calls: StubRequest[] = [];
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void (async () => {
      if (req.method !== "POST" || !req.url?.endsWith("/chat/completions")) {
        res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ error: { message: "not found" } }));
        return;
      }
      const body = JSON.parse(await readBody(req)) as StubRequest;
      const index = calls.push(body) - 1;
      const a = await answer(body, index);
      if (typeof a !== "string") {
        const headers: Record<string, string> = { "content-type": "application/json" };
        if (a.retryAfter !== undefined) headers["retry-after"] = String(a.retryAfter);
        res.writeHead(a.status, headers).end(JSON.stringify(a.body ?? { error: { message: `stub failure ${a.status}`, type: "server_error" } }));
        return;
      }
      const prompt = words(body.messages);
      // Like a real server, an answer longer than max_tokens (one token per word here) is cut, with finish_reason "length".
      const all = a.split(/\s+/).filter(Boolean);
      const cut = body.max_tokens !== undefined && all.length > body.max_tokens;
      const content = cut ? all.slice(0, body.max_tokens).join(" ") : a;
      const completion = cut ? (body.max_tokens as number) : all.length;
      res.writeHead(200, { "content-type": "application/json" }).end(
        JSON.stringify({
          id: `chatcmpl-${index}`,
          object: "chat.completion",
          created: 1_700_000_000,
          model: body.model,
          choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: cut ? "length" : "stop" }],
          usage: { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion },
        }),
      );
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    calls,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
