import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { REPO_ROOT } from "../test-support/paths.js";

// docs/reference/ is generated from the program, the zod schemas and the error boundary. When this fails, a
// command, option, config key or error code changed: run `npx tsx scripts/generate-reference.ts` and commit.
describe("docs/reference", () => {
  it("matches a fresh generation (scripts/generate-reference.ts --check)", () => {
    const res = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "scripts", "generate-reference.ts"), "--check"], { cwd: REPO_ROOT, encoding: "utf8", timeout: 60_000 });
    expect(res.stderr).toBe("");
    expect(res.status).toBe(0);
  });

  it("lists the quickstart command, a nested train key and the exit codes", () => {
    const read = (f: string) => readFileSync(join(REPO_ROOT, "docs", "reference", f), "utf8");
    expect(read("commands.md")).toContain("## tunekit quickstart");
    expect(read("commands.md")).toContain("## tunekit model card");
    expect(read("config.md")).toContain("| `lora.r` | integer");
    // Union entries key by key: every eval.yaml candidate key, the variant-only ones marked.
    expect(read("config.md")).toContain("| `candidates[].maxTokens` | integer | `64` | most tokens per answer");
    expect(read("config.md")).toContain("| `candidates[].modelDir` | string |  | (only with type: local / llama-cpp) ");
    expect(read("config.md")).toContain("| `candidates[].type` | \"openai\" \\| \"local\" \\| \"llama-cpp\" |");
    expect(read("errors.md")).toContain("| usage | 2 | 400 |");
  });
});
