import { readFileSync, rmSync, writeFileSync, mkdtempSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewaySectionSchema } from "../config/index.js";
import { STORIES260K } from "../test-support/paths.js";
import { loadTokenizer } from "../tokenize/index.js";
import { LocalBackend } from "./local-backend.js";
import { startTestGateway } from "./testing/gateway-fixture.js";
import type { Backend } from "./upstream.js";

// The gateway's local routes against a fake serving worker whose replies and timings the test controls.
const FAKE = fileURLToPath(new URL("../runtime/testing/fake-serve-worker.py", import.meta.url));
const tokenizer = loadTokenizer(STORIES260K);
const dir = mkdtempSync(join(tmpdir(), "tunekit-serving-"));
const LOG = join(dir, "worker.jsonl");
const TOOLS_ADAPTER = join(dir, "adapter-tools");
const OTHER_ADAPTER = join(dir, "adapter-other");
const STORY = "Once upon a time there was a little girl named Lily";
const CALL = '<tool_call>{"name": "get_weather", "arguments": {"city": "Paris"}}</tool_call>';
const OTHER = "The dog ran to the park";
// A ChatML template that lists the offered tools in a system turn, as tool-use templates do.
const TEMPLATE = join(dir, "tools.jinja");
writeFileSync(TEMPLATE, "{% if tools %}<|im_start|>system\nTools: {% for t in tools %}{{ t.function.name }} {% endfor %}<|im_end|>\n{% endif %}{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
const WEATHER = [{ type: "function" as const, function: { name: "get_weather", description: "Weather now", parameters: { type: "object", properties: { city: { type: "string" } } } } }];

type LogLine = { t: number; kind: string; id: string; ids?: number[]; adapter?: string | null; prompt?: number[]; request_id?: string; finish_reason?: string; adapters?: string[] };
const readLog = (): LogLine[] => (existsSync(LOG) ? readFileSync(LOG, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as LogLine) : []);
async function until<T>(fn: () => T | undefined, ms = 10_000): Promise<T> {
  for (const end = Date.now() + ms; Date.now() < end; await new Promise((r) => setTimeout(r, 20))) {
    const v = fn();
    if (v !== undefined) return v;
  }
  throw new Error("timed out waiting");
}

let t: Awaited<ReturnType<typeof startTestGateway>>;
let client: OpenAI;

beforeAll(async () => {
  const encode = (s: string) => tokenizer.encode(s, { addSpecialTokens: false });
  process.env.FAKE_SERVE_REPLIES = JSON.stringify({ "": await encode(STORY), [TOOLS_ADAPTER]: await encode(CALL), [OTHER_ADAPTER]: await encode(OTHER) });
  process.env.FAKE_SERVE_DELAY_MS = "60";
  process.env.FAKE_SERVE_LOG = LOG;
  const config = {
    auth: { required: false },
    logging: { durability: "write", flushMs: 20 },
    routes: [
      { name: "story", backend: "local", modelDir: STORIES260K, template: TEMPLATE, maxNewTokens: 64 },
      { name: "tools", backend: "local", modelDir: STORIES260K, adapterDir: TOOLS_ADAPTER, template: TEMPLATE, maxNewTokens: 64 },
      { name: "other", backend: "local", modelDir: STORIES260K, adapterDir: OTHER_ADAPTER, template: TEMPLATE, maxNewTokens: 64 },
    ],
  };
  const routes = GatewaySectionSchema.parse({ port: 0, ...config }).routes;
  const backends = new Map<string, Backend>(routes.map((r) => [r.name, new LocalBackend(r, { python: "/usr/bin/python3", device: "cpu", workerArgs: [FAKE] })]));
  t = await startTestGateway(config, { backends });
  client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
}, 60_000);
afterAll(async () => {
  await t?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const user = (content: string) => [{ role: "user" as const, content }];
/** What the reply's ids decode to after this prompt (a SentencePiece first token brings its space). */
async function inContext(prompt: number[], reply: string): Promise<string> {
  const ids = await tokenizer.encode(reply, { addSpecialTokens: false });
  const before = await tokenizer.decode(prompt, { skipSpecialTokens: true });
  return (await tokenizer.decode([...prompt, ...ids], { skipSpecialTokens: true })).slice(before.length);
}

describe("gateway: local routes on the serving worker", () => {
  it("streams each token as the worker produces it", async () => {
    expect(await tokenizer.decode(await tokenizer.encode(CALL, { addSpecialTokens: false }))).toBe(CALL); // byte fallback round-trips
    const stream = await client.chat.completions.create({ model: "story", messages: user("Tell me a story"), stream: true });
    let text = "";
    let firstAt: number | null = null;
    let finish: string | null = null;
    for await (const chunk of stream) {
      const piece = chunk.choices[0]?.delta?.content ?? "";
      if (piece && firstAt === null) firstAt = Date.now();
      text += piece;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    const submit = readLog().find((s) => s.kind === "submit")!;
    expect([text, finish]).toEqual([await inContext(submit.prompt!, STORY), "length"]);
    const mine = readLog().filter((l) => l.kind === "token" && l.id === submit.id);
    expect(mine.length).toBeGreaterThan(5);
    // The first chunk reached the client long before the worker produced the last token.
    expect(firstAt!).toBeLessThan(mine[mine.length - 1].t - 200);
  }, 30_000);

  it("runs requests concurrently on one worker, each with its route's adapter", async () => {
    const before = readLog().length;
    const started = Date.now();
    const [story, other] = await Promise.all([
      client.chat.completions.create({ model: "story", messages: user("A story") }),
      client.chat.completions.create({ model: "other", messages: user("A dog") }),
    ]);
    const elapsed = Date.now() - started;
    const lines = readLog().slice(before);
    const submits = lines.filter((l) => l.kind === "submit");
    const promptOf = (adapter: string | null) => submits.find((s) => s.adapter === adapter)!.prompt!;
    expect([story.choices[0].message.content, other.choices[0].message.content]).toEqual([await inContext(promptOf(null), STORY), await inContext(promptOf(OTHER_ADAPTER), OTHER)]);
    expect(submits.map((s) => s.adapter).sort()).toEqual([null, OTHER_ADAPTER].sort());
    // Both were submitted before either finished: they overlapped in the worker.
    const firstDone = lines.findIndex((l) => l.kind === "done");
    expect(lines.findIndex((l) => l.kind === "submit" && l.id === submits[1].id)).toBeLessThan(firstDone);
    const tokens = (STORY.length > OTHER.length ? await tokenizer.encode(STORY, { addSpecialTokens: false }) : []).length;
    expect(elapsed).toBeLessThan(tokens * 60 * 1.9); // not one after the other
    // One worker, one serve_start carrying every route's adapter.
    expect(readLog().filter((l) => l.kind === "serve_start").map((l) => l.adapters)).toEqual([[OTHER_ADAPTER, TOOLS_ADAPTER].sort()]);
  }, 30_000);

  it("cancels the worker request when the client disconnects", async () => {
    const before = readLog().length;
    const abort = new AbortController();
    const stream = await client.chat.completions.create({ model: "story", messages: user("Go"), stream: true }, { signal: abort.signal });
    try {
      for await (const chunk of stream) {
        if (chunk.choices[0]?.delta?.content) abort.abort();
      }
    } catch {
      // the aborted read
    }
    const submit = await until(() => readLog().slice(before).find((l) => l.kind === "submit"));
    const cancel = await until(() => readLog().find((l) => l.kind === "cancel" && l.request_id === submit.id));
    const done = await until(() => readLog().find((l) => l.kind === "done" && l.id === submit.id));
    expect([cancel.request_id, done.finish_reason]).toEqual([submit.id, "cancelled"]);
    const produced = readLog().filter((l) => l.kind === "token" && l.id === submit.id).length;
    expect(produced).toBeLessThan((await tokenizer.encode(STORY, { addSpecialTokens: false })).length);
  }, 30_000);

  it("renders tools through the template and returns the model's tool calls, plain and streamed", async () => {
    const before = readLog().length;
    const plain = await client.chat.completions.create({ model: "tools", messages: user("Weather in Paris?"), tools: WEATHER });
    const call = plain.choices[0].message.tool_calls?.[0] as { id: string; type: string; function: { name: string; arguments: string } };
    expect({ finish: plain.choices[0].finish_reason, content: plain.choices[0].message.content, type: call.type, fn: call.function, calls: plain.choices[0].message.tool_calls?.length }).toEqual({
      finish: "tool_calls",
      content: null,
      type: "function",
      fn: { name: "get_weather", arguments: '{"city":"Paris"}' },
      calls: 1,
    });
    const prompt = readLog().slice(before).find((l) => l.kind === "submit")!.prompt!;
    expect(await tokenizer.decode(prompt)).toContain("Tools: get_weather");

    const stream = await client.chat.completions.create({ model: "tools", messages: user("Weather in Paris?"), tools: WEATHER, stream: true });
    let content = "";
    const deltas: unknown[] = [];
    let finish: string | null = null;
    for await (const chunk of stream) {
      content += chunk.choices[0]?.delta?.content ?? "";
      deltas.push(...(chunk.choices[0]?.delta?.tool_calls ?? []).map((d) => ({ index: d.index, type: d.type, function: d.function })));
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect({ content, deltas, finish }).toEqual({ content: "", deltas: [{ index: 0, type: "function", function: { name: "get_weather", arguments: '{"city":"Paris"}' } }], finish: "tool_calls" });
  }, 30_000);
});
