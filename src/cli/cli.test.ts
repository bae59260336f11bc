import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../test-support/cli.js";
import { makeTempDir } from "../test-support/paths.js";

describe("tunekit CLI", () => {
  it("lists the command groups in --help", () => {
    const res = runCli(["--help"], { cwd: makeTempDir() });
    expect(res.status).toBe(0);
    for (const group of ["init", "config", "data", "runs"]) expect(res.stdout).toMatch(new RegExp(`^ {2}${group}\\b`, "m"));
  });

  it("init then runs list --json work in an empty folder", () => {
    const dir = makeTempDir();
    const init = runCli(["init"], { cwd: dir });
    expect(init.status).toBe(0);
    expect(existsSync(join(dir, "tunekit.yaml")) && existsSync(join(dir, ".tunekit", "registry.db"))).toBe(true);
    const list = runCli(["runs", "list", "--json"], { cwd: dir });
    expect([list.status, JSON.parse(list.stdout)]).toEqual([0, { runs: [] }]);
  });

  it("says how to fix a missing workspace, with the not-found exit code", () => {
    const res = runCli(["runs", "list"], { cwd: makeTempDir() });
    expect(res.status).toBe(5);
    expect(res.stderr).toMatch(/^error WORKSPACE_NOT_FOUND: no tunekit workspace in .* \(no tunekit\.yaml\)\n {2}fix: run `tunekit init` in your project folder, or pass --workspace DIR\n$/);
  });

  it("reports a bad config as one JSON error document with --json", () => {
    const dir = makeTempDir();
    writeFileSync(join(dir, "tunekit.yaml"), "project:\n  nmae: x\nlog:\n  level: loud\nregistry:\n  busyTimeoutMs: -1\n");
    const res = runCli(["runs", "list", "--json"], { cwd: dir });
    expect(res.status).toBe(3);
    const body = JSON.parse(res.stdout);
    expect(body.error.code).toBe("CONFIG_INVALID");
    expect(body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(["project.nmae", "registry.busyTimeoutMs", "log.level"]);
  });

  it("turns unknown options into a usage error", () => {
    const res = runCli(["runs", "list", "--bogus"], { cwd: makeTempDir() });
    expect([res.status, res.stderr.split("\n")[0]]).toEqual([2, "error CLI_USAGE: unknown option '--bogus'"]);
  });
});
