import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactSecrets, redactValue } from "../log/index.js";
import { initWorkspace, openWorkspace } from "../registry/index.js";
import { makeTempDir } from "../test-support/paths.js";
import { hubTokenOf, resolveModel } from "./resolve-model.js";
import { startHubFixtureServer } from "./testing/hub-fixture-server.js";
import { FIXTURE_TOKEN, GATED_REPO, storiesRepo } from "./testing/stories-repo.js";

// A Hugging Face token's shape: hf_ and 34 letters (real ones have no digits; the pattern allows them).
const HF_TOKEN = "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZaBcDeFgH";

describe("HF_TOKEN is a secret everywhere", () => {
  it("is read from HF_TOKEN, else HUGGING_FACE_HUB_TOKEN, and absent when neither is set", () => {
    expect(hubTokenOf({ HF_TOKEN, HUGGING_FACE_HUB_TOKEN: FIXTURE_TOKEN })).toBe(HF_TOKEN);
    expect(hubTokenOf({ HUGGING_FACE_HUB_TOKEN: FIXTURE_TOKEN })).toBe(FIXTURE_TOKEN);
    expect(hubTokenOf({})).toBeUndefined();
  });

  it("is redacted by shape in messages and by name in objects", () => {
    expect(redactSecrets(`export HF_TOKEN=${HF_TOKEN}; Authorization: Bearer ${HF_TOKEN}; bare ${HF_TOKEN}`)).toBe("export HF_TOKEN=[REDACTED]; Authorization: Bearer [REDACTED]; bare [REDACTED]");
    expect(redactValue({ env: { HF_TOKEN: "anything", HUGGING_FACE_HUB_TOKEN: "x", HF_ENDPOINT: "http://127.0.0.1:1" }, accessToken: HF_TOKEN })).toEqual({
      env: { HF_TOKEN: "[REDACTED]", HUGGING_FACE_HUB_TOKEN: "[REDACTED]", HF_ENDPOINT: "http://127.0.0.1:1" },
      accessToken: "[REDACTED]",
    });
  });

  it("reaches no log line and no stored run record", async () => {
    let written = "";
    const sink = new Writable({ write(chunk, _enc, cb) { written += String(chunk); cb(); } });
    const logger = createLogger({ level: "debug", destination: sink });
    logger.debug({ request: { headers: { authorization: `Bearer ${HF_TOKEN}` } }, note: `token ${HF_TOKEN}` }, `pulling with ${HF_TOKEN}`);
    expect(written).not.toContain(HF_TOKEN);
    const dir = makeTempDir();
    await initWorkspace(dir);
    const ws = await openWorkspace({ dir, env: {} });
    try {
      await ws.registry.createRun({ kind: "train", config: { model: "org/name", env: { HF_TOKEN }, note: `used ${HF_TOKEN}` } });
      expect(JSON.stringify(await ws.registry.db.selectFrom("runs").selectAll().execute())).not.toContain(HF_TOKEN);
    } finally {
      await ws.close();
    }
  });

  it("goes to the Hub's origin only: the CDN that LFS downloads redirect to never sees it", async () => {
    const hub = await startHubFixtureServer({ repos: [storiesRepo(GATED_REPO, { gated: true })], tokens: [FIXTURE_TOKEN] });
    try {
      await resolveModel(GATED_REPO, { env: { HF_ENDPOINT: hub.url, HF_TOKEN: FIXTURE_TOKEN }, cacheDir: makeTempDir() });
      const seen = (origin: string) => [...new Set(hub.requests.filter((r) => r.origin === origin).map((r) => r.auth))];
      expect({ hub: seen("hub"), cdn: seen("cdn") }).toEqual({ hub: ["granted"], cdn: ["none"] });
    } finally {
      await hub.close();
    }
  });
});
