import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runCliJson } from "../../test-support/cli.js";
import { BITEXT_CSV, repoRoot } from "../../data/testing/temp-workspace.js";

const exec = promisify(execFile);
const BIN = join(repoRoot, "bin/tunekit.js");

const tunekit = runCliJson;

describe("tunekit data dedupe | pii | split | stats (CLI)", () => {
  it("dedupes, redacts, splits and describes bitext, each step a new version", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tk-cli-dps-"));
    await exec(process.execPath, [BIN, "init"], { cwd: dir });
    const imported = await tunekit(dir, "data", "import", BITEXT_CSV, "--name", "bitext", "--map", "user=instruction,assistant=response");
    expect(imported.code).toBe(0);
    const n = imported.json.version.recordCount as number;

    const deduped = await tunekit(dir, "data", "dedupe", "bitext", "--quality-sample", "500");
    expect(deduped.code).toBe(0);
    expect(deduped.json.version).toMatchObject({ number: 2, transform: "dedupe", recordCount: n - deduped.json.report.removed.total });
    expect(deduped.json.report.quality).toMatchObject({ sample: 500, threshold: 0.8 });

    const redacted = await tunekit(dir, "data", "pii", "bitext", "--mode", "redact");
    expect(redacted.code).toBe(0);
    expect(redacted.json.version).toMatchObject({ number: 3, transform: "pii-redact" });
    expect(redacted.json.report.byType.EMAIL).toBe(2);
    const audit = await readFile(redacted.json.audit.path, "utf8");
    expect(audit.trim().split("\n").map((l) => JSON.parse(l).type).sort()).toEqual(["EMAIL", "EMAIL", "SECRET", "SECRET"]);
    expect(audit).not.toContain("@");

    const split = await tunekit(dir, "data", "split", "bitext", "--stratify", "intent", "--seed", "9");
    expect(split.code).toBe(0);
    const c = split.json.report.counts;
    expect(c.train + c.val + c.test).toBe(redacted.json.version.recordCount);
    expect(split.json.report.leakage).toMatchObject({ check: "leakage", leakedClusters: 0 });
    const again = await tunekit(dir, "data", "split", "bitext@3", "--stratify", "intent", "--seed", "9");
    expect(again.json.version.sha256).toBe(split.json.version.sha256); // deterministic for a seed

    const html = join(dir, "stats.html");
    const stats = await tunekit(dir, "data", "stats", "bitext", "--html", html, "--model", "gpt-4o-mini");
    expect(stats.code).toBe(0);
    expect(stats.json.stats).toMatchObject({ records: c.train + c.val + c.test, tokenizer: { name: "o200k_base", estimate: false }, label: { field: "intent" } });
    expect(stats.json.stats.pii.recordsWithFindings).toBe(0);
    expect(await readFile(html, "utf8")).toContain("<svg");
  });

  it("reports bad options as data errors with exit code 4", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tk-cli-dps-"));
    await exec(process.execPath, [BIN, "init"], { cwd: dir });
    const file = join(dir, "d.jsonl");
    await writeFile(file, `${JSON.stringify({ messages: [{ role: "user", content: "hi" }, { role: "assistant", content: "hello" }] })}\n`);
    await tunekit(dir, "data", "import", file, "--name", "tiny");
    const bad = await tunekit(dir, "data", "dedupe", "tiny", "--threshold", "1.5");
    expect(bad.code).toBe(4);
    expect(bad.json.error.code).toBe("DATA_DEDUPE_OPTIONS");
    const ratios = await tunekit(dir, "data", "split", "tiny", "--ratios", "0.5,0.1,0.1");
    expect(ratios.json.error.code).toBe("DATA_SPLIT_RATIOS");
  });
});
