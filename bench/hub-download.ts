/**
 * Hub download benchmark, against the loopback Hub fixture (src/hub/testing/hub-fixture-server.ts) serving a
 * generated N MiB model.safetensors (default 512) beside the stories260k config and tokenizer:
 *  - baseline: a plain fetch of the same bytes written to a file (MiB/s), the floor any downloader pays;
 *  - resolveModel cold: listing, download, sha256 verification, fsync, rename, symlinks (MiB/s, and the ratio);
 *  - resolveModel warm: the cached snapshot, no request (ms);
 *  - resume: a download cut at half, continued by the next call (s; the half on disk is re-hashed, not re-fetched);
 *  - peak RSS of the process (streaming: it must not grow with N).
 * Usage: node --import tsx bench/hub-download.ts [MiB]   — prints one JSON document with the figures.
 */
import { randomBytes } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { resolveModel } from "../src/hub/index.js";
import { folderFiles, startHubFixtureServer } from "../src/hub/testing/hub-fixture-server.js";
import { STORIES260K } from "../src/test-support/paths.js";

const MIB = Number(process.argv[2] ?? 512);
const REPO = "bench/big-model";
let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 20);

const work = await mkdtemp(join(tmpdir(), "tk-hub-bench-"));
try {
  const weights = join(work, "model.safetensors");
  const out = createWriteStream(weights);
  for (let i = 0; i < MIB; i++) if (!out.write(randomBytes(1 << 20))) await new Promise((r) => out.once("drain", r));
  await new Promise((r) => out.end(r));
  const hub = await startHubFixtureServer({
    repos: [{ name: REPO, revisions: [{ refs: ["main"], files: { ...folderFiles(STORIES260K, ["config.json", "tokenizer.json", "tokenizer_config.json"]), "model.safetensors": weights } }] }],
  });
  const env = { HF_ENDPOINT: hub.url };
  const rssBefore = process.memoryUsage().rss;
  peakRss = rssBefore;
  try {
    const time = async (fn: () => Promise<unknown>) => {
      const t0 = performance.now();
      await fn();
      return (performance.now() - t0) / 1000;
    };
    const sha = hub.commitOf(REPO, "main");
    const baseline = await time(async () => {
      const res = await fetch(`${hub.url}/${REPO}/resolve/${sha}/model.safetensors`);
      await pipeline(Readable.fromWeb(res.body as import("node:stream/web").ReadableStream), createWriteStream(join(work, "plain.bin")));
    });
    const cache = join(work, "cache");
    const cold = await time(() => resolveModel(REPO, { env, cacheDir: cache }));
    const warm = await time(() => resolveModel(REPO, { env, cacheDir: cache }));
    const resumeCache = join(work, "cache-resume");
    hub.cutNext("model.safetensors", (MIB << 20) / 2);
    await resolveModel(REPO, { env, cacheDir: resumeCache, retries: 0 }).catch(() => undefined);
    const resume = await time(() => resolveModel(REPO, { env, cacheDir: resumeCache }));
    const figures = {
      mib: MIB,
      baselineMiBps: Math.round(MIB / baseline),
      coldMiBps: Math.round(MIB / cold),
      coldVsBaseline: Number((baseline / cold).toFixed(2)),
      warmMs: Number((warm * 1000).toFixed(1)),
      resumeSecondHalfS: Number(resume.toFixed(2)),
      peakRssMiB: Math.round(peakRss / 1048576),
      rssGrowthMiB: Math.round((peakRss - rssBefore) / 1048576),
    };
    await writeFile(join(work, "figures.json"), JSON.stringify(figures));
    process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
  } finally {
    await hub.close();
  }
} finally {
  clearInterval(sampler);
  await rm(work, { recursive: true, force: true });
}
