/**
 * Data pipeline benchmark: generates N chat records (default 1,000,000) as JSONL and measures
 *  - baseline: read + split + JSON.parse only (records/s), the floor any validator pays;
 *  - validate --target openai over the file (records/s; target ≥ 100,000/s on 2 cores);
 *  - import → clean → split (seeded 80/10/10, leakage check) → export (openai) end to end through a real
 *    workspace (seconds; peak RSS; target ≤ 3 min on 2 cores).
 * Usage: node --import tsx bench/data-validate.ts [N]   — prints one JSON document with the figures.
 */
import { createReadStream } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createJsonlWriter } from "../src/data/jsonl-writer.js";
import { splitLines } from "../src/data/line-splitter.js";
import { readJsonlFile } from "../src/data/jsonl.js";
import { validateEntries } from "../src/data/validate/validator.js";
import { prepareImport } from "../src/data/import/importer.js";
import { commitVersion, readVersion } from "../src/data/versions.js";
import { Cleaner } from "../src/data/clean.js";
import { exportRecords } from "../src/data/export/exporter.js";
import { splitDataset } from "../src/data/split.js";
import { initWorkspace, openWorkspace } from "../src/registry/index.js";

const N = Number(process.argv[2] ?? 1_000_000);
const WORDS = "refund card transfer account balance limit pending declined verify identity statement fee exchange rate top up cancel order".split(" ");

function sentence(seed: number, len: number): string {
  const out: string[] = [];
  for (let i = 0; i < len; i += 1) out.push(WORDS[(seed * 31 + i * 17) % WORDS.length]!);
  return out.join(" ");
}

let peakRss = 0;
const sampler = setInterval(() => { peakRss = Math.max(peakRss, process.memoryUsage().rss); }, 50);
const mib = (n: number) => Math.round(n / 1048576);
/** Wall seconds, and CPU seconds (user+sys) of this process, which stay meaningful on a loaded machine. */
const cpu: Record<string, number> = {};
async function timed<T>(fn: () => Promise<T>, label?: string): Promise<[T, number]> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const r = await fn();
  const c = process.cpuUsage(c0);
  if (label) cpu[label] = Math.round((c.user + c.system) / 1e4) / 100;
  return [r, (performance.now() - t0) / 1000];
}

const dir = await mkdtemp(join(tmpdir(), "tk-bench-data-"));
try {
  const file = join(dir, "chat.jsonl");
  const [, genS] = await timed(async () => {
    const w = await createJsonlWriter(file, { canonical: false });
    for (let i = 0; i < N; i += 1) {
      await w.write({ messages: [
        { role: "system", content: "You are a helpful banking support assistant." },
        { role: "user", content: `${sentence(i, 8 + (i % 12))}?` },
        { role: "assistant", content: `${sentence(i + 7, 20 + (i % 30))}.` },
      ], metadata: { id: `r${i}`, intent: WORDS[i % WORDS.length] } });
    }
    await w.close();
  });

  const [baseline, baseS] = await timed(async () => {
    let n = 0;
    const decoder = new TextDecoder("utf-8", { fatal: true });
    for await (const line of splitLines(createReadStream(file, { highWaterMark: 1 << 20 }))) { JSON.parse(decoder.decode(line.bytes)); n += 1; }
    return n;
  }, "baseline");
  const [summary, valS] = await timed(() => validateEntries(readJsonlFile(file), { target: "openai" }), "validate");

  const wsDir = join(dir, "ws");
  await initWorkspace(wsDir);
  const ws = await openWorkspace({ dir: wsDir });
  peakRss = 0;
  const [pipeline, pipeS] = await timed(async () => {
    const [prepared] = await Promise.all([prepareImport([file])]);
    const [v1, importS] = await timed(() => commitVersion(ws, { dataset: "bench", transform: "import", params: {}, records: prepared.records(), report: () => prepared.report as never }), "import");
    const cleaner = new Cleaner();
    const [v2, cleanS] = await timed(() => commitVersion(ws, { dataset: "bench", parent: v1, transform: "clean", params: {}, records: cleaner.clean(readVersion(ws, v1), { owned: true }) }), "clean");
    const [v3, splitS] = await timed(async () => {
      // The generated records are near-duplicates of each other by construction; resolving leakage would drop most
      // of them, so the check runs (and is timed) but leaves the records in place.
      const run = await splitDataset(() => readVersion(ws, v2), { seed: 1, leakage: { resolve: false } });
      return commitVersion(ws, { dataset: "bench", parent: v2, transform: "split", params: { seed: 1 }, records: run.records() });
    }, "split");
    const [exported, exportS] = await timed(() => exportRecords(readVersion(ws, v3), { target: "openai", outDir: join(dir, "out"), prefix: "bench" }), "export");
    return { importS, cleanS, splitS, exportS, exported: exported.exported };
  });
  await ws.close();
  const r = (x: number) => Math.round(x * 100) / 100;
  console.log(JSON.stringify({
    records: N, node: process.version, generateS: r(genS),
    baselineParse: { seconds: r(baseS), recordsPerS: Math.round(baseline / baseS) },
    validateOpenai: { seconds: r(valS), recordsPerS: Math.round(summary.records / valS), valid: summary.valid, ratioToBaseline: r(baseS / valS) },
    cpuSeconds: cpu,
    loadAverage: (await import("node:os")).loadavg().map((x) => Math.round(x * 10) / 10),
    importCleanSplitExport: { seconds: r(pipeS), importS: r(pipeline.importS), cleanS: r(pipeline.cleanS), splitS: r(pipeline.splitS), exportS: r(pipeline.exportS), exported: pipeline.exported, peakRssMiB: mib(peakRss) },
  }, null, 2));
} finally {
  clearInterval(sampler);
  await rm(dir, { recursive: true, force: true });
}
