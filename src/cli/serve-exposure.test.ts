import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../test-support/cli.js";
import { makeTempDir } from "../test-support/paths.js";

describe("tunekit serve beyond loopback", () => {
  it("refuses --host 0.0.0.0 with auth off, naming --allow-unauthenticated, and records no run", () => {
    const dir = makeTempDir();
    expect(runCli(["init"], { cwd: dir }).status).toBe(0);
    writeFileSync(join(dir, "tunekit.yaml"), "version: 1\ngateway:\n  port: 0\n  auth:\n    required: false\n  routes:\n    - name: base\n      baseUrl: http://127.0.0.1:9/v1\n");
    const res = runCli(["serve", "--host", "0.0.0.0"], { cwd: dir });
    expect([res.status, res.stderr.split("\n")[0]]).toEqual([2, "error GATEWAY_UNAUTHENTICATED_EXPOSURE: refusing to listen on 0.0.0.0 (beyond loopback) with gateway.auth.required: false"]);
    expect(res.stderr).toContain("--allow-unauthenticated");
    expect(JSON.parse(runCli(["runs", "list", "--json"], { cwd: dir }).stdout)).toEqual({ runs: [] });
  });
});
