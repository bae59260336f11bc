import { readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { openWorkspace } from "../registry/index.js";
import { startHubFixtureServer, type HubFixtureServer } from "../hub/testing/hub-fixture-server.js";
import { FIXTURE_TOKEN, GATED_REPO, STORIES_REPO, storiesRepo } from "../hub/testing/stories-repo.js";
import { makeTempDir } from "../test-support/paths.js";
import { resolveTrainSpecInput } from "./spec-check.js";
import { BASE_SPEC, createStoriesWorkspace, runCli, writeSpec } from "./testing/train-fixtures.js";

/** Every file under a folder, as bytes (the registry database, its WAL, run folders). */
function allBytes(dir: string): Buffer {
  const parts: Buffer[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      if (statSync(path).isDirectory()) walk(path);
      else parts.push(readFileSync(path));
    }
  };
  walk(dir);
  return Buffer.concat(parts);
}

/** train.yaml `model: org/name` against a loopback Hub (HF_ENDPOINT); the real worker trains on CPU. */
describe("train.yaml with a Hub model", () => {
  let hub: HubFixtureServer;
  let dir: string;
  let cache: string;
  beforeAll(async () => {
    hub = await startHubFixtureServer({ repos: [storiesRepo(), storiesRepo(GATED_REPO, { gated: true })], tokens: [FIXTURE_TOKEN] });
    dir = await createStoriesWorkspace();
    cache = makeTempDir();
  });
  afterAll(async () => {
    vi.unstubAllEnvs();
    await hub.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("resolves model: org/name to the cache snapshot and keeps the repo and commit", async () => {
    vi.stubEnv("HF_ENDPOINT", hub.url);
    vi.stubEnv("HF_HUB_CACHE", cache);
    const ws = await openWorkspace({ dir });
    try {
      const resolved = await resolveTrainSpecInput(ws, { ...BASE_SPEC, model: STORIES_REPO }, "train.yaml");
      const commit = hub.commitOf(STORIES_REPO, "main");
      expect({ modelDir: resolved.modelDir, modelSource: resolved.modelSource }).toEqual({
        modelDir: join(cache, "models--tunekit-fixtures--stories260k", "snapshots", commit),
        modelSource: { repo: STORIES_REPO, revision: "main", commit },
      });
      const error = await resolveTrainSpecInput(ws, { ...BASE_SPEC, model: "tunekit-fixtures/missing", batchSize: 0 }, "train.yaml").catch((e: unknown) => e);
      const problems = (error as { details: { problems: { path: string; message: string }[] } }).details.problems.map((p) => `${p.path}: ${p.message}`);
      // An invalid spec with a Hub model that exists: only the schema problem, and no weights downloaded.
      const otherCache = makeTempDir();
      vi.stubEnv("HF_HUB_CACHE", otherCache);
      const invalid = await resolveTrainSpecInput(ws, { ...BASE_SPEC, model: STORIES_REPO, batchSize: 0 }, "train.yaml").catch((e: unknown) => e);
      expect((invalid as { details: { problems: { path: string }[] } }).details.problems.map((p) => p.path)).toEqual(["batchSize"]);
      expect(readdirSync(join(otherCache, "models--tunekit-fixtures--stories260k", "snapshots", commit)).sort()).toEqual(["config.json", "generation_config.json", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"]);
      expect(problems).toEqual(["batchSize: Too small: expected number to be >=1", `model: model tunekit-fixtures/missing was not found on ${hub.url} (or it is private and no HF_TOKEN is set), and there is no folder ${dir}/tunekit-fixtures/missing`]);
    } finally {
      await ws.close();
      vi.unstubAllEnvs();
    }
  });

  it("train --dry-run plans a Hub model from its config and tokenizer, without downloading the weights", async () => {
    const spec = writeSpec(dir, { ...BASE_SPEC, model: STORIES_REPO }, "hub-plan.yaml");
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir() };
    const r = await runCli(["--workspace", dir, "--json", "train", "--config", spec, "--dry-run"], { env });
    expect(r.code, r.stderr).toBe(0);
    const snapshot = join(env.HF_HUB_CACHE, "models--tunekit-fixtures--stories260k", "snapshots", hub.commitOf(STORIES_REPO, "main"));
    expect(JSON.parse(r.stdout).plan.model).toEqual({ dir: snapshot, architecture: "LlamaForCausalLM", parameters: 260_032 });
    expect(readdirSync(snapshot)).not.toContain("model.safetensors");
  });

    it("trains from a gated Hub model with HF_TOKEN; the run records org/name@commit and the token is stored and printed nowhere", async () => {
    const spec = writeSpec(dir, { ...BASE_SPEC, name: "from-hub", model: GATED_REPO, maxSteps: 2, eval: { everySteps: 2 }, checkpoint: { everySteps: 2, keepLast: 1 } }, "hub.yaml");
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir(), HF_TOKEN: FIXTURE_TOKEN, TUNEKIT_LOG_LEVEL: "debug" };
    const r = await runCli(["--workspace", dir, "--json", "train", "--config", spec], { env });
    expect(r.code, r.stderr).toBe(0);
    const commit = hub.commitOf(GATED_REPO, "main");
    const out = JSON.parse(r.stdout);
    expect(out.run.config.model).toBe(`${GATED_REPO}@${commit}`);
    const ws = await openWorkspace({ dir });
    try {
      const base = await ws.registry.getModel(out.model.baseModelId);
      expect({ name: base.name, path: base.path, meta: base.meta }).toEqual({
        name: `${GATED_REPO}@${commit.slice(0, 12)}`,
        path: join(env.HF_HUB_CACHE, "models--tunekit-fixtures--stories260k-gated", "snapshots", commit),
        meta: { architecture: "LlamaForCausalLM", hub: { repo: GATED_REPO, revision: "main", commit } },
      });
    } finally {
      await ws.close();
    }
    expect(r.stdout + r.stderr).not.toContain(FIXTURE_TOKEN);
    expect(allBytes(join(dir, ".tunekit")).includes(Buffer.from(FIXTURE_TOKEN))).toBe(false);
  });
});
