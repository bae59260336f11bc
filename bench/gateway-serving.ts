/**
 * The gateway in front of a serving worker (issue 17), CPU and loopback only: the real gateway in its own process
 * with a local route served by the fake serving worker in its batch mode (src/runtime/testing/fake-serve-worker.py,
 * FAKE_SERVE_BATCH_STEP_MS: one token per active request every step, like the H200 scheduler at a given step
 * time). N closed-loop streaming clients (the openai SDK, 2 requests each back to back) measure output tokens/s,
 * TTFT and inter-token latency; the worker's log gives the same at the source in the same run, so what the
 * gateway's HTTP + SSE + JSON-lines relay adds is client − worker.
 * Usage: node --import tsx bench/gateway-serving.ts [--step-ms 2,8] [--clients 1,16,64] [--new 128] [--prompt 256]
 */
import { readFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import OpenAI from "openai";
import { percentileOf, spawnGateway } from "../src/gateway/testing/load.js";
import { STORIES260K } from "../src/test-support/paths.js";
import { loadTokenizer } from "../src/tokenize/index.js";
import { numberListFlag } from "./flags.js";

const STEPS = numberListFlag("step-ms", [2, 8]);
const CLIENTS = numberListFlag("clients", [1, 16, 64]);
const NEW = numberListFlag("new", [128])[0];
const PROMPT = numberListFlag("prompt", [256])[0];
const REQUESTS_PER_CLIENT = 2;
const FAKE = fileURLToPath(new URL("../src/runtime/testing/fake-serve-worker.py", import.meta.url));
const STORY = "Once upon a time there was a little girl named Lily. She liked to play in the park with her dog. One day they found a big red ball under a tree.";

const dir = mkdtempSync(join(tmpdir(), "tunekit-gwserve-"));
// ChatML as text (stories260k has no chat template); its <|im_end|> becomes a text stop string, held back per token.
const TEMPLATE = join(dir, "chatml.jinja");
writeFileSync(TEMPLATE, "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}");
const tokenizer = loadTokenizer(STORIES260K);
const encode = (s: string) => tokenizer.encode(s, { addSpecialTokens: false });
// Replies are a story's own ids (cycled by the fake), so every token decodes to ordinary text.
const replyIds = await encode(`${STORY} `);
// A user message whose rendered prompt is about PROMPT tokens (the worker's log has the exact count).
const words = STORY.split(" ");
let userText = "";
for (let i = 0; (await encode(`<|im_start|>user\n${userText}<|im_end|>\n<|im_start|>assistant\n`)).length < PROMPT; i++) userText += `${words[i % words.length]} `;

type LogLine = { t: number; kind: string; id?: string; ids?: string[]; prompt?: number[] };
const readLog = (file: string): LogLine[] => readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l) as LogLine);
/** utime + stime of a process in seconds (/proc/<pid>/stat fields 14 and 15, clock ticks of 1/100 s). */
const cpuSeconds = (pid: number): number => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
const childPid = (pid: number): number => Number(readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/)[0]);

interface ClientRequest {
  startedAt: number;
  firstAt: number | null;
  gaps: number[];
  completionTokens: number;
  endedAt: number;
}

async function oneRequest(client: OpenAI): Promise<ClientRequest> {
  const startedAt = performance.now();
  const stream = await client.chat.completions.create({ model: "serve", messages: [{ role: "user", content: userText }], max_tokens: NEW, stream: true, stream_options: { include_usage: true } });
  let firstAt: number | null = null;
  let last = 0;
  const gaps: number[] = [];
  let completionTokens = 0;
  for await (const chunk of stream) {
    if (chunk.usage) completionTokens = chunk.usage.completion_tokens;
    if (!chunk.choices[0]?.delta?.content) continue;
    const now = performance.now();
    if (firstAt === null) firstAt = now;
    else gaps.push(now - last);
    last = now;
  }
  return { startedAt, firstAt, gaps, completionTokens, endedAt: performance.now() };
}

/** Worker-side figures of the submits logged after line `from`: TTFT (submit → first step), ITL, tokens/s. */
function workerFigures(lines: LogLine[]) {
  const submitted = new Map<string, number>();
  const lastStep = new Map<string, number>();
  const ttft: number[] = [];
  const itl: number[] = [];
  let tokens = 0;
  let promptTokens = 0;
  for (const l of lines) {
    if (l.kind === "submit") {
      submitted.set(l.id!, l.t);
      promptTokens = l.prompt!.length;
    }
    if (l.kind !== "step") continue;
    for (const id of l.ids!) {
      if (!submitted.has(id)) continue;
      tokens++;
      const prev = lastStep.get(id);
      if (prev === undefined) ttft.push(l.t - submitted.get(id)!);
      else itl.push(l.t - prev);
      lastStep.set(id, l.t);
    }
  }
  const start = Math.min(...submitted.values());
  const end = Math.max(...lastStep.values());
  return { tokens, promptTokens, tokensPerSec: tokens / ((end - start) / 1000), ttft, itl };
}

const f1 = (x: number) => x.toFixed(1);
const f2 = (x: number) => x.toFixed(2);
const rows: Record<string, unknown>[] = [];
console.log(`prompt ≈ ${PROMPT} tokens, ${NEW} new tokens, ${REQUESTS_PER_CLIENT} requests per client (closed loop)\n`);
console.log("| step ms | clients | worker tok/s | client tok/s | client÷worker | TTFT p50/p99 worker | TTFT p50/p99 client | added TTFT p50/p99 | ITL p50/p99 worker | ITL p50/p99 client | added ITL p50/p99 | gateway CPU µs/token | gateway cores busy |");
console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|");
try {
  for (const step of STEPS) {
    const log = join(dir, `worker-${step}.jsonl`);
    writeFileSync(log, "");
    const routes = [{ name: "serve", backend: "local", modelDir: STORIES260K, template: TEMPLATE, maxNewTokens: NEW }];
    const env = { FAKE_SERVE_BATCH_STEP_MS: String(step), FAKE_SERVE_LOG: log, FAKE_SERVE_REPLIES: JSON.stringify({ "": replyIds }) };
    const gw = await spawnGateway({ port: 0, auth: { required: false }, routes }, join(dir, `state-${step}`), { python: "/usr/bin/python3", workerArgs: [FAKE], env });
    const client = new OpenAI({ baseURL: `${gw.url}/v1`, apiKey: "unused", maxRetries: 0, timeout: 600_000 });
    try {
      // Warm-up: starts the worker (serve_start), JITs the relay path, opens sockets.
      await Promise.all(Array.from({ length: 4 }, () => oneRequest(client)));
      const workerPid = childPid(gw.child.pid!);
      for (const n of CLIENTS) {
        const from = readLog(log).length;
        const gwCpu0 = cpuSeconds(gw.child.pid!);
        const wkCpu0 = cpuSeconds(workerPid);
        const me0 = process.cpuUsage();
        const t0 = performance.now();
        const done = (
          await Promise.all(
            Array.from({ length: n }, async () => {
              const mine: ClientRequest[] = [];
              for (let r = 0; r < REQUESTS_PER_CLIENT; r++) mine.push(await oneRequest(client));
              return mine;
            }),
          )
        ).flat();
        const wallS = (performance.now() - t0) / 1000;
        const gwCpu = cpuSeconds(gw.child.pid!) - gwCpu0;
        const wkCpu = cpuSeconds(workerPid) - wkCpu0;
        const me = process.cpuUsage(me0);
        await new Promise((r) => setTimeout(r, 50)); // the last step's log line
        const w = workerFigures(readLog(log).slice(from));
        const tokens = done.reduce((s, r) => s + r.completionTokens, 0);
        const clientTps = tokens / (Math.max(...done.map((r) => r.endedAt)) - Math.min(...done.map((r) => r.startedAt))) * 1000;
        const cTtft = done.map((r) => r.firstAt! - r.startedAt);
        const cItl = done.flatMap((r) => r.gaps);
        const p = (v: number[], q: number) => percentileOf(v, q);
        const row = {
          stepMs: step, clients: n, requests: done.length, promptTokens: w.promptTokens, tokens, workerTokens: w.tokens,
          workerTps: w.tokensPerSec, clientTps, ratio: clientTps / w.tokensPerSec,
          workerTtft: [p(w.ttft, 50), p(w.ttft, 99)], clientTtft: [p(cTtft, 50), p(cTtft, 99)],
          workerItl: [p(w.itl, 50), p(w.itl, 99)], clientItl: [p(cItl, 50), p(cItl, 99)], contentChunks: cItl.length + done.length,
          gatewayCpuUsPerToken: (gwCpu / tokens) * 1e6, gatewayCores: gwCpu / wallS, workerCores: wkCpu / wallS, clientCores: (me.user + me.system) / 1e6 / wallS,
        };
        rows.push(row);
        const pair = (a: number[]) => `${f1(a[0])} / ${f1(a[1])}`;
        const added = (c: number[], wk: number[]) => `${f1(c[0] - wk[0])} / ${f1(c[1] - wk[1])}`;
        console.log(
          `| ${step} | ${n} | ${row.workerTps.toFixed(0)} | ${clientTps.toFixed(0)} | ${f2(row.ratio)} | ${pair(row.workerTtft)} | ${pair(row.clientTtft)} | ${added(row.clientTtft, row.workerTtft)} | ${pair(row.workerItl)} | ${pair(row.clientItl)} | ${added(row.clientItl, row.workerItl)} | ${row.gatewayCpuUsPerToken.toFixed(0)} | ${f2(row.gatewayCores)} |`,
        );
      }
    } finally {
      gw.child.kill("SIGTERM");
      await new Promise((r) => gw.child.once("exit", r));
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(JSON.stringify(rows));
