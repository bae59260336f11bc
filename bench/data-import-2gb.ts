/**
 * Streaming import at scale: generates a JSONL chat file of a given size (default 2 GiB) and imports it into a
 * fresh workspace (`tunekit data import`'s library path: detect, parse, canonicalise, hash, write the version),
 * sampling this process's RSS every 50 ms. Target: a 2 GB file imports with under 500 MB RSS.
 * The baseline, in the same run, is reading the same file line by line without keeping anything (the floor).
 * Usage: node --import tsx bench/data-import-2gb.ts [GiB]   — prints one JSON document.
 */
import { createReadStream, createWriteStream } from "node:fs";
import { once } from "node:events";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { splitLines } from "../src/data/line-splitter.js";
import { prepareImport } from "../src/data/import/importer.js";
import { commitVersion } from "../src/data/versions.js";
import { initWorkspace, openWorkspace } from "../src/registry/index.js";

const TARGET_BYTES = Number(process.argv[2] ?? 2) * 1024 ** 3;
const WORDS = "refund card transfer account balance limit pending declined verify identity statement fee exchange rate top up cancel order".split(" ");
const sentence = (seed: number, len: number) => Array.from({ length: len }, (_, i) => WORDS[(seed * 31 + i * 17) % WORDS.length]).join(" ");

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
const mib = (n: number) => Math.round(n / 1048576);

const dir = await mkdtemp(join(tmpdir(), "tk-bench-2gb-"));
try {
  const file = join(dir, "chat.jsonl");
  const t0 = performance.now();
  const out = createWriteStream(file);
  let records = 0;
  let written = 0;
  while (written < TARGET_BYTES) {
    const line = `${JSON.stringify({ messages: [
      { role: "system", content: "You are a helpful banking support assistant." },
      { role: "user", content: `${sentence(records, 8 + (records % 12))}?` },
      { role: "assistant", content: `${sentence(records + 7, 20 + (records % 30))}.` },
    ], metadata: { id: `r${records}`, intent: WORDS[records % WORDS.length] } })}\n`;
    written += Buffer.byteLength(line);
    records += 1;
    if (!out.write(line)) await once(out, "drain");
  }
  out.end();
  await once(out, "finish");
  const bytes = (await stat(file)).size;
  const generateS = (performance.now() - t0) / 1000;

  peakRss = process.memoryUsage().rss;
  const b0 = performance.now();
  let lines = 0;
  for await (const _line of splitLines(createReadStream(file, { highWaterMark: 1 << 20 }))) lines += 1;
  const baselineS = (performance.now() - b0) / 1000;
  const baselineRss = peakRss;

  await initWorkspace(join(dir, "ws"));
  const ws = await openWorkspace({ dir: join(dir, "ws") });
  peakRss = process.memoryUsage().rss;
  const rssBefore = peakRss;
  const i0 = performance.now();
  const prepared = await prepareImport([file]);
  const version = await commitVersion(ws, { dataset: "big", transform: "import", params: {}, records: prepared.records() });
  const importS = (performance.now() - i0) / 1000;
  await ws.close();
  console.log(JSON.stringify({
    fileBytes: bytes, fileGiB: Math.round((bytes / 1024 ** 3) * 100) / 100, records, generateS: Math.round(generateS),
    baselineReadLines: { seconds: Math.round(baselineS * 10) / 10, lines, peakRssMiB: mib(baselineRss) },
    import: { seconds: Math.round(importS * 10) / 10, records: version.recordCount, mbPerS: Math.round(bytes / 1e6 / importS), rssBeforeMiB: mib(rssBefore), peakRssMiB: mib(peakRss) },
  }, null, 2));
} finally {
  clearInterval(sampler);
  await rm(dir, { recursive: true, force: true });
}
