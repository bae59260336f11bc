import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ConfigError } from "../errors/index.js";
import { makeTempDir } from "../test-support/paths.js";
import { TunekitConfigSchema, configJsonSchema, loadConfig } from "./index.js";

function workspaceWith(yaml: string): string {
  const dir = makeTempDir();
  writeFileSync(join(dir, "tunekit.yaml"), yaml);
  return dir;
}

function problemsOf(fn: () => unknown): unknown[] {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as ConfigError).details!.problems as unknown[];
  }
  throw new Error("expected a ConfigError");
}

describe("loadConfig", () => {
  it("gives every default for an empty file", () => {
    const { version, project, registry, log, worker } = loadConfig({ dir: workspaceWith(""), env: {} });
    expect({ version, project, registry, log, worker }).toEqual({
      version: 1,
      project: { name: "my-project", description: "" },
      registry: { backend: "sqlite", path: "registry.db", busyTimeoutMs: 10_000 },
      log: { level: "info" },
      worker: { device: "auto", readyTimeoutMs: 120_000 },
    });
  });

  it("applies defaults < tunekit.yaml < TUNEKIT_* env < flags", () => {
    const dir = workspaceWith("project:\n  name: from-file\n  description: file\nlog:\n  level: warn\nregistry:\n  busyTimeoutMs: 1\n");
    const config = loadConfig({
      dir,
      env: { TUNEKIT_LOG__LEVEL: "debug", TUNEKIT_REGISTRY__BUSY_TIMEOUT_MS: "2", TUNEKIT_PYTHON: "/ignored", TUNEKIT_TEST_POSTGRES_URL: "postgres://x" },
      overrides: { registry: { busyTimeoutMs: 3 } },
    });
    expect([config.project, config.log.level, config.registry.busyTimeoutMs]).toEqual([
      { name: "from-file", description: "file" },
      "debug",
      3,
    ]);
  });

  it("reports three mistakes in one run, each with path, value, source and fix", () => {
    const dir = workspaceWith("version: 1\nproject:\n  nmae: x\nregistry:\n  backend: mysql\nlog:\n  level: 3\n");
    expect(problemsOf(() => loadConfig({ dir, env: {} }))).toEqual([
      { path: "project.nmae", value: "x", message: 'unknown key "nmae"', fix: 'did you mean "name"? Rename it, or remove it', source: "tunekit.yaml:3" },
      {
        path: "registry.backend",
        value: "mysql",
        message: 'Invalid option: expected one of "sqlite"|"postgres"',
        fix: 'use one of: "sqlite", "postgres"',
        source: "tunekit.yaml:5",
      },
      {
        path: "log.level",
        value: 3,
        message: 'Invalid option: expected one of "trace"|"debug"|"info"|"warn"|"error"|"fatal"|"silent"',
        fix: 'use one of: "trace", "debug", "info", "warn", "error", "fatal", "silent"',
        source: "tunekit.yaml:7",
      },
    ]);
  });

  it("names the env var that set a bad value", () => {
    const problems = problemsOf(() => loadConfig({ dir: workspaceWith(""), env: { TUNEKIT_REGISTRY__BUSY_TIMEOUT_MS: "-5" } }));
    expect(problems).toEqual([
      { path: "registry.busyTimeoutMs", value: -5, message: "Too small: expected number to be >=0", fix: "use a value ≥ 0", source: "TUNEKIT_REGISTRY__BUSY_TIMEOUT_MS" },
    ]);
  });

  it("reports YAML syntax errors with the line", () => {
    const problems = problemsOf(() => loadConfig({ dir: workspaceWith("project:\n  name: [unclosed\n"), env: {} })) as { message: string }[];
    expect(problems).toHaveLength(1);
    expect(problems[0].message).toMatch(/^tunekit\.yaml:\d+: YAML syntax error/);
  });

  it("rejects a file that is not a mapping", () => {
    expect(problemsOf(() => loadConfig({ dir: workspaceWith("- a\n- b\n"), env: {} }))).toEqual([
      {
        path: "(root)",
        value: ["a", "b"],
        message: "tunekit.yaml must be a mapping of keys to values",
        fix: "start the file with top-level keys such as `project:`; see `tunekit init`",
        source: undefined,
      },
    ]);
  });

  it("publishes a JSON Schema with every section", () => {
    const schema = configJsonSchema() as { properties: Record<string, unknown> };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(["$schema", "log", "project", "registry", "version", "worker"]));
    expect(Object.keys(TunekitConfigSchema.shape).every((key) => key in schema.properties)).toBe(true);
  });
});
