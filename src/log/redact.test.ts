import { Writable } from "node:stream";
import { describe, expect, it } from "vitest";
import { createLogger, redactSecrets, redactValue } from "./index.js";
import { initWorkspace, openWorkspace } from "../registry/index.js";
import { makeTempDir } from "../test-support/paths.js";

const OPENAI_KEY = "sk-proj-abcdefghijklmnopqrstuvwxyz0123456789";
const AWS_ID = "AKIAIOSFODNN7EXAMPLE";
const AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";

describe("secret redaction", () => {
  it("removes credentials by shape wherever they appear", () => {
    expect(
      redactSecrets(
        `key ${OPENAI_KEY}; Authorization: Bearer abc.def-ghi_jkl012; aws ${AWS_ID} aws_secret_access_key=${AWS_SECRET} https://x?api_key=zzzzzzzz&y=1 tk-0123456789abcdefghij`,
      ),
    ).toBe(
      "key [REDACTED]; Authorization: Bearer [REDACTED]; aws [REDACTED] aws_secret_access_key=[REDACTED] https://x?api_key=[REDACTED]&y=1 [REDACTED]",
    );
  });

  it("masks URL passwords and short bearer tokens, and leaves ordinary words after 'basic'", () => {
    expect(
      redactSecrets(
        "postgres://tk:p@ss:w0rd@db:5432/x and https://bob:s3cret@llm.example/v1?x=1 and postgres://only-user@db; authorization: bearer abc123; Basic setup; a basic understanding",
      ),
    ).toBe(
      "postgres://tk:***@db:5432/x and https://bob:***@llm.example/v1?x=1 and postgres://only-user@db; authorization: bearer [REDACTED]; Basic setup; a basic understanding",
    );
  });

  it("walks an object under a secret-named key, keeping its numbers and switches and hiding its text", () => {
    expect(redactValue({ auth: { required: true, burst: 60, user: "bob", password: 1234 }, token: "" })).toEqual({
      auth: { required: true, burst: 60, user: "[REDACTED]", password: "[REDACTED]" },
      token: "",
    });
  });

  it("removes values of secret-named keys at any depth and leaves the rest", () => {
    expect(
      redactValue({
        provider: "openai",
        apiKey: "anything",
        nested: { aws: { secretAccessKey: AWS_SECRET, region: "us-east-1" }, headers: { Authorization: "x", accept: "json" } },
        list: [{ password: "p" }, "text with " + OPENAI_KEY],
        tokens: 123,
      }),
    ).toEqual({
      provider: "openai",
      apiKey: "[REDACTED]",
      nested: { aws: { secretAccessKey: "[REDACTED]", region: "us-east-1" }, headers: { Authorization: "[REDACTED]", accept: "json" } },
      list: [{ password: "[REDACTED]" }, "text with [REDACTED]"],
      tokens: 123,
    });
  });

  it("keeps secrets out of every log line", () => {
    let written = "";
    const sink = new Writable({ write(chunk, _enc, cb) { written += String(chunk); cb(); } });
    const logger = createLogger({ level: "info", destination: sink });
    logger.info({ apiKey: OPENAI_KEY, url: `https://api?token=${"t".repeat(12)}` }, `calling with ${OPENAI_KEY}`);
    logger.warn(`aws ${AWS_ID}`);
    expect(written).not.toContain(OPENAI_KEY);
    expect(written).not.toContain(AWS_ID);
    expect(written).not.toContain("t".repeat(12));
    expect(written.match(/\[REDACTED\]/g)?.length).toBe(4);
  });

  it("keeps secrets out of stored run records", async () => {
    const dir = makeTempDir();
    await initWorkspace(dir);
    const ws = await openWorkspace({ dir, env: {} });
    const run = await ws.registry.createRun({ kind: "train", config: { provider: "openai", openai: { apiKey: OPENAI_KEY }, note: `Bearer ${"x".repeat(20)}` } });
    await ws.registry.appendRunEvents(run.id, [{ type: "log", data: { message: `using ${AWS_ID}` } }]);
    await ws.registry.transitionRun(run.id, "failed", { error: { code: "PROVIDER_AUTH", message: `key ${OPENAI_KEY} rejected` } });
    const raw = JSON.stringify(await ws.registry.db.selectFrom("runs").selectAll().execute()) + JSON.stringify(await ws.registry.db.selectFrom("run_events").selectAll().execute());
    expect(raw).not.toContain(OPENAI_KEY);
    expect(raw).not.toContain(AWS_ID);
    expect(raw).not.toContain("x".repeat(20));
    await ws.close();
  });
});
