import { join } from "node:path";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GatewayRouteSchema } from "../config/index.js";
import { startHubFixtureServer, type HubFixtureServer } from "../hub/testing/hub-fixture-server.js";
import { REPO_ROOT, makeTempDir } from "../test-support/paths.js";
import { resolveRouteModel } from "./local-route-model.js";
import { startTestGateway } from "./testing/gateway-fixture.js";

// The shipped demo model (ChatML) served by a loopback Hub, so a route can name it as org/name.
const MODEL = join(REPO_ROOT, "models", "demo-base");
const REPO = "tunekit-fixtures/demo-base";
const FILES = ["config.json", "generation_config.json", "model.safetensors", "special_tokens_map.json", "tokenizer.json", "tokenizer_config.json"];
let hub: HubFixtureServer;
beforeAll(async () => {
  hub = await startHubFixtureServer({ repos: [{ name: REPO, revisions: [{ refs: ["main"], files: Object.fromEntries(FILES.map((f) => [f, join(MODEL, f)])) }] }] });
});
afterAll(() => hub.close());

describe("gateway: a local route naming a Hub model", () => {
  it("resolves modelDir org/name to the HF cache snapshot and leaves folders and upstream routes alone", async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir() };
    const commit = hub.commitOf(REPO, "main");
    const route = GatewayRouteSchema.parse({ name: "r", backend: "local", modelDir: REPO });
    expect(await resolveRouteModel(route, env)).toEqual({ ...route, modelDir: join(env.HF_HUB_CACHE, "models--tunekit-fixtures--demo-base", "snapshots", commit) });
    const folder = GatewayRouteSchema.parse({ name: "f", backend: "local", modelDir: MODEL });
    const upstream = GatewayRouteSchema.parse({ name: "u", backend: "openai", baseUrl: "http://127.0.0.1:1/v1", model: "org/name" });
    expect(await resolveRouteModel(folder, env)).toBe(folder);
    expect(await resolveRouteModel(upstream, env)).toBe(upstream);
  });

  it("answers from the Hub snapshot exactly as from the folder", async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir() };
    const t = await startTestGateway(
      {
        auth: { required: false },
        logging: { durability: "write", flushMs: 20 },
        routes: [
          { name: "hub", backend: "local", modelDir: REPO, maxNewTokens: 8 },
          { name: "folder", backend: "local", modelDir: MODEL, maxNewTokens: 8 },
        ],
      },
      { python: "/usr/bin/python3", device: "cpu", env },
    );
    try {
      const client = new OpenAI({ baseURL: `${t.gateway.url}/v1`, apiKey: "unused", maxRetries: 0 });
      const ask = async (model: string) => (await client.chat.completions.create({ model, messages: [{ role: "user", content: "Where is my order?" }], temperature: 0 })).choices[0].message.content;
      const fromHub = await ask("hub");
      expect(fromHub?.length).toBeGreaterThan(0);
      expect(fromHub).toBe(await ask("folder"));
    } finally {
      await t.stop();
    }
  });

  it("refuses to start when a route names a Hub model that does not exist (HUB_MODEL_NOT_FOUND)", async () => {
    const env = { HF_ENDPOINT: hub.url, HF_HUB_CACHE: makeTempDir() };
    await expect(startTestGateway({ auth: { required: false }, routes: [{ name: "x", backend: "local", modelDir: "tunekit-fixtures/missing" }] }, { env })).rejects.toMatchObject({ code: "HUB_MODEL_NOT_FOUND" });
  });
});
