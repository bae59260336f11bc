import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startHubFixtureServer, type HubFixtureServer } from "../hub/testing/hub-fixture-server.js";
import { FIXTURE_TOKEN, GATED_REPO, STORIES_REPO, storiesRepo } from "../hub/testing/stories-repo.js";
import { makeTempDir } from "../test-support/paths.js";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { STORIES260K, createStoriesWorkspace, runCli } from "../train/testing/train-fixtures.js";

/** The CLI against a loopback Hub (HF_ENDPOINT): the real worker on CPU generates from the downloaded snapshot. */
let hub: HubFixtureServer;
beforeAll(async () => {
  hub = await startHubFixtureServer({ repos: [storiesRepo(), storiesRepo(GATED_REPO, { gated: true })], tokens: [FIXTURE_TOKEN] });
});
afterAll(() => hub.close());

describe("Hub models in the CLI", () => {
  it("`generate --model org/name` downloads the model and generates the same text as from the local folder", async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir() };
    const args = ["--prompt", "Once upon a time", "--max-new-tokens", "24"];
    const fromHub = await runCli(["--json", "generate", "--model", STORIES_REPO, ...args], { env });
    expect(fromHub.code, fromHub.stderr).toBe(0);
    const local = await runCli(["--json", "generate", "--model", STORIES260K, ...args]);
    expect(local.code, local.stderr).toBe(0);
    const a = JSON.parse(fromHub.stdout);
    const b = JSON.parse(local.stdout);
    expect(a.model).toBe(`${env.HF_HUB_CACHE}/models--tunekit-fixtures--stories260k/snapshots/${hub.commitOf(STORIES_REPO, "main")}`);
    expect({ text: a.text, ids: a.ids }).toEqual({ text: b.text, ids: b.ids });
  });

  it("`model pull` prints the snapshot folder; a gated model needs HF_TOKEN, which appears in no output", async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir(), TUNEKIT_LOG_LEVEL: "debug" };
    const refused = await runCli(["model", "pull", GATED_REPO], { env });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain("HUB_GATED_TOKEN_REQUIRED");
    const pulled = await runCli(["model", "pull", GATED_REPO], { env: { ...env, HF_TOKEN: FIXTURE_TOKEN } });
    expect(pulled.code, pulled.stderr).toBe(0);
    expect(pulled.stdout).toBe(`${env.HF_HUB_CACHE}/models--tunekit-fixtures--stories260k-gated/snapshots/${hub.commitOf(GATED_REPO, "main")}\n`);
    const json = await runCli(["--json", "model", "pull", `${GATED_REPO}@main`], { env: { ...env, HF_TOKEN: FIXTURE_TOKEN } });
    expect(JSON.parse(json.stdout)).toEqual({ dir: pulled.stdout.trim(), source: "hub", repo: GATED_REPO, revision: "main", commit: hub.commitOf(GATED_REPO, "main") });
    for (const r of [refused, pulled, json]) expect(r.stdout + r.stderr).not.toContain(FIXTURE_TOKEN);
  });

  it("`data preview --model org/name` fetches only the tokenizer files and previews what the folder previews", async () => {
    const dir = await createStoriesWorkspace();
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir() };
    const fromHub = await runCli(["--workspace", dir, "--json", "data", "preview", "stories", "--model", STORIES_REPO, "-n", "2"], { env });
    expect(fromHub.code, fromHub.stderr).toBe(0);
    const local = await runCli(["--workspace", dir, "--json", "data", "preview", "stories", "--model", STORIES260K, "-n", "2"]);
    const snapshot = `${env.HF_HUB_CACHE}/models--tunekit-fixtures--stories260k/snapshots/${hub.commitOf(STORIES_REPO, "main")}`;
    expect(JSON.parse(fromHub.stdout)).toEqual({ ...JSON.parse(local.stdout), model: snapshot });
    expect(existsSync(join(snapshot, "tokenizer.json"))).toBe(true);
    expect(existsSync(join(snapshot, "model.safetensors"))).toBe(false);
    rmSync(dir, { recursive: true, force: true });
  });

    it("offline, a model not in the cache fails with HUB_OFFLINE_NOT_CACHED and no request", async () => {
    const before = hub.requests.length;
    const r = await runCli(["model", "pull", STORIES_REPO], { env: { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir(), HF_HUB_OFFLINE: "1" } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("HUB_OFFLINE_NOT_CACHED");
    expect(hub.requests.length).toBe(before);
  });
});
