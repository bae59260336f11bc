import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { runCli } from "../test-support/cli.js";
import { makeTempDir } from "../test-support/paths.js";

function workspaceWith(yaml: string): string {
  const dir = makeTempDir();
  writeFileSync(join(dir, "tunekit.yaml"), yaml);
  return dir;
}

describe("tunekit config", () => {
  it("show masks URL passwords in the registry URL and in upstream baseUrls", () => {
    const dir = workspaceWith(
      [
        "version: 1",
        "project: { name: demo }",
        "registry: { backend: postgres, url: 'postgres://tk:hunter2pass@db.example:5432/tk' }",
        "gateway:",
        "  routes:",
        "    - { name: up, baseUrl: 'https://bob:s3cret@llm.example/v1' }",
        "",
      ].join("\n"),
    );
    const text = runCli(["config", "show"], { cwd: dir });
    expect(text.status).toBe(0);
    expect(text.stdout).not.toContain("hunter2pass");
    expect(text.stdout).not.toContain("s3cret");
    const shown = parse(text.stdout);
    expect([shown.registry.url, shown.gateway.routes[0].baseUrl, shown.gateway.auth]).toEqual([
      "postgres://tk:***@db.example:5432/tk",
      "https://bob:***@llm.example/v1",
      { required: true, requestsPerMinute: 600, burst: 60 },
    ]);
    const json = runCli(["--json", "config", "show"], { cwd: dir, env: { TUNEKIT_GATEWAY__LOGGING__URL: "postgres://gw:envpass99@pg/gw" } });
    expect(json.stdout).not.toContain("envpass99");
    expect(JSON.parse(json.stdout).gateway.logging.url).toBe("postgres://gw:***@pg/gw");
  }, 120_000);

  it("validate errors name the bad keys without echoing bearer tokens, passwords or URL passwords", () => {
    const dir = workspaceWith(
      [
        "version: 1",
        "project: { name: demo }",
        "gateway:",
        "  routes:",
        "    - name: up",
        "      headers: { Authorization: Bearer abc123 }",
        "      password: plain-pw",
        "      baseUrl: 'not a url postgres://u:urlpass7@db'",
        "",
      ].join("\n"),
    );
    const [text, json] = [["config", "validate"], ["--json", "config", "validate"]].map((args) => runCli(args, { cwd: dir }));
    for (const res of [text!, json!]) {
      expect(res.status).toBe(3);
      const all = res.stdout + res.stderr;
      for (const secret of ["abc123", "plain-pw", "urlpass7"]) expect(all).not.toContain(secret);
    }
    const { stderr } = text!;
    expect(stderr.split("\n").slice(1, 4)).toEqual([
      '  gateway.routes[0].baseUrl = "not a url postgres://u:***@db" (tunekit.yaml:8): Invalid URL; fix: write it in url format',
      '  gateway.routes[0].headers = {"Authorization":"[REDACTED]"} (tunekit.yaml:6): unknown key "headers"; fix: remove it; keys allowed here: name, backend, baseUrl, apiKeyEnv, model, modelDir, adapterDir, template, maxNewTokens, timeoutMs, retries, retryBackoffMs, fallback, pricing',
      '  gateway.routes[0].password = "[REDACTED]" (tunekit.yaml:7): unknown key "password"; fix: remove it; keys allowed here: name, backend, baseUrl, apiKeyEnv, model, modelDir, adapterDir, template, maxNewTokens, timeoutMs, retries, retryBackoffMs, fallback, pricing',
    ]);
  }, 120_000);
});
