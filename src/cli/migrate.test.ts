import { rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { commitVersion, type ChatRecord } from "../data/index.js";
import { parseEvalSuite, runEvalSuite } from "../eval/index.js";
import { startChatStub, type ChatStubServer } from "../eval/testing/chat-stub-server.js";
import { API_KEY, KEY_ENV, createMigrateWorkspace, qaPairs, startHostedJob, type HostedJobFixture } from "../migrate/testing/migrate-fixtures.js";
import { openWorkspace } from "../registry/index.js";
import { runCliJson } from "../test-support/cli.js";
import { STORIES260K } from "../test-support/paths.js";

// The shells over src/migrate, as a user runs them (a separate process; the fixture servers live in this one,
// so the CLI is run without blocking the event loop).
let hosted: HostedJobFixture;
let stub: ChatStubServer;
let dir: string;
let evalRunId: string;

beforeAll(async () => {
  process.env[KEY_ENV] = API_KEY;
  hosted = await startHostedJob();
  dir = await createMigrateWorkspace();
  const pairs = qaPairs().slice(0, 6);
  const answers = new Map(pairs.map((p) => [p.question, p.answer]));
  stub = await startChatStub((req) => (req.model === "broken" ? "no idea at all" : (answers.get(req.messages.at(-1)!.content) ?? "")));
  const ws = await openWorkspace({ dir });
  try {
    const records: ChatRecord[] = pairs.map((p) => ({ messages: [{ role: "user", content: p.question }, { role: "assistant", content: p.answer }], metadata: { split: "test" } }));
    await commitVersion(ws, { dataset: "qa", transform: "import", params: {}, records: (async function* () { yield* records; })() });
    const suite = parseEvalSuite({ name: "gate", dataset: { version: "qa" }, candidates: ["trained", "broken"].map((name) => ({ name, type: "openai", model: name, baseURL: stub.url })), metrics: ["token_f1"], statistics: { resamples: 200 } });
    evalRunId = (await runEvalSuite(ws, suite, { baseDir: dir })).runId;
  } finally {
    await ws.close();
  }
}, 60_000);
afterAll(async () => {
  await hosted?.fixture.server.stop();
  await stub?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const migrate = (...extra: string[]) => runCliJson(dir, "migrate", "--from-openai-job", hosted.jobId, "--to", STORIES260K, "--base-url", hosted.baseURL, "--api-key-env", KEY_ENV, ...extra);

describe("tunekit migrate", () => {
  it("--dry-run prints the plan as JSON and writes nothing", async () => {
    const res = await migrate("--dry-run", "--name", "acme");
    expect([res.code, res.json.dryRun, res.json.name, res.json.job.fineTunedModel, res.json.steps.map((s: { status: string }) => s.status)]).toEqual([
      0, true, "acme", hosted.fineTunedModel, ["planned", "planned", "not requested", "planned", "planned", "planned"],
    ]);
    const ws = await openWorkspace({ dir });
    expect((await ws.registry.listRuns({ kind: "migration" })).length).toBe(0);
    await ws.close();
  }, 60_000);

  it("names the bad flag (MIGRATE_BAD_OPTIONS, exit 2)", async () => {
    const res = await migrate("--margin", "lots", "--dry-run");
    expect(res.code).toBe(2);
    expect(`${res.stderr}${JSON.stringify(res.json ?? "")}`).toMatch(/MIGRATE_BAD_OPTIONS[\s\S]*--margin must be a number, got \\?"lots\\?"/);
  }, 60_000);

  it("says where the base model is missing (MIGRATE_BASE_MODEL_MISSING, exit 5)", async () => {
    const res = await runCliJson(dir, "migrate", "--from-openai-job", hosted.jobId, "--to", join(dir, "nope"), "--base-url", hosted.baseURL, "--api-key-env", KEY_ENV);
    expect(res.code).toBe(5);
    expect(`${res.stderr}${JSON.stringify(res.json ?? "")}`).toContain("MIGRATE_BASE_MODEL_MISSING");
  }, 60_000);
});

describe("tunekit model promote", () => {
  it("refuses a significantly worse candidate (PROMOTE_REFUSED, exit 6)", async () => {
    const res = await runCliJson(dir, "model", "promote", "--eval", evalRunId, "--candidate", "broken", "--reference", "trained");
    expect(res.code).toBe(6);
    expect(`${res.stderr}${JSON.stringify(res.json ?? "")}`).toContain("PROMOTE_REFUSED");
  }, 60_000);

  it("prints the verdict when the candidate passes", async () => {
    const res = await runCliJson(dir, "model", "promote", "--eval", evalRunId, "--candidate", "trained", "--reference", "broken", "--margin", "0.05");
    expect([res.code, res.json.verdict.outcome, res.json.experiment]).toEqual([0, "non-inferior", null]);
  }, 60_000);
});
