import { describe, expect, it } from "vitest";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { runCliJson } from "../../test-support/cli.js";
import { BANKING77_CSV, repoRoot } from "../../data/testing/temp-workspace.js";

const exec = promisify(execFile);
const BIN = join(repoRoot, "bin/tunekit.js");

const tunekit = runCliJson;

describe("tunekit data (CLI)", () => {
  it("imports, validates, cleans, exports, lists, shows and diffs banking77", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tk-cli-data-"));
    await exec(process.execPath, [BIN, "init"], { cwd: dir });
    const imported = await tunekit(dir, "data", "import", BANKING77_CSV, "--name", "banking", "--map", "user=text,assistant=category", "--system", "Classify the banking request.");
    expect(imported.code).toBe(0);
    expect(imported.json.version).toMatchObject({ datasetName: "banking", number: 1, recordCount: 10_003, transform: "import" });
    expect(imported.json.report.files[0].reason).toBe("CSV (extension .csv), header: text, category; mapping from --map: user=text,assistant=category");

    const validated = await tunekit(dir, "data", "validate", "banking", "--target", "openai");
    expect({ code: validated.code, ok: validated.json.ok, valid: validated.json.valid, errors: validated.json.errors }).toEqual({ code: 0, ok: true, valid: 10_003, errors: 0 });

    const cleaned = await tunekit(dir, "data", "clean", "banking");
    expect(cleaned.code).toBe(0);
    expect(cleaned.json.version).toMatchObject({ number: 2, transform: "clean", parentId: imported.json.version.id });
    expect(cleaned.json.report.recordsIn).toBe(10_003);
    expect(cleaned.json.report.recordsIn - cleaned.json.report.recordsOut).toBe(
      Object.values(cleaned.json.report.dropped as Record<string, { count: number }>).reduce((n, d) => n + d.count, 0));

    const out = join(dir, "exports");
    const exported = await tunekit(dir, "data", "export", "banking", "--target", "bedrock", "--out", out);
    expect(exported.code).toBe(4); // data error: 10,003 training records exceed Bedrock Haiku's 10,000 maximum
    expect(exported.json.error.code).toBe("DATA_EXPORT_INVALID");
    expect(await readdir(out)).toEqual([]); // nothing partial left behind
    const exportedOpenAi = await tunekit(dir, "data", "export", "banking", "--target", "openai", "--out", out);
    expect(exportedOpenAi.code).toBe(0);
    const lines = (await readFile(join(out, "banking-v2-openai-train.jsonl"), "utf8")).trimEnd().split("\n");
    expect(lines.length).toBe(cleaned.json.report.recordsOut);
    expect(JSON.parse(lines[0]!)).toEqual({ messages: [{ role: "system", content: "Classify the banking request." }, { role: "user", content: "I am still waiting on my card?" }, { role: "assistant", content: "card_arrival" }] });

    const list = await tunekit(dir, "data", "list");
    expect(list.json.datasets).toMatchObject([{ name: "banking", versions: 2, latest: { number: 2, transform: "clean" } }]);
    const show = await tunekit(dir, "data", "show", "banking@1");
    expect(show.json.version.report.imported).toBe(10_003);
    const diff = await tunekit(dir, "data", "diff", "banking@1", "banking@2");
    expect(diff.json.before - diff.json.removed + diff.json.added).toBe(diff.json.after);
  }, 240_000); // eight CLI processes over 10,003 records

  it("validates a bad file: per-line problems, summary by kind, non-zero exit", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tk-cli-data-"));
    const file = join(dir, "bad.jsonl");
    const good = '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}';
    await writeFile(file, Buffer.concat([Buffer.from(`\uFEFF${good}\r\n[1]\n{"messages":[{"role":"bot","content":"x"}]}\n`), Buffer.from([0xc3, 0x28, 0x0a]), Buffer.from('{"messages":[')]));
    const before = await readFile(file);
    const r = await tunekit(dir, "data", "validate", file);
    expect(r.code).not.toBe(0);
    expect(r.json.issues.map((i: { line: number; code: string }) => [i.line, i.code])).toEqual([
      [2, "DATA_NOT_OBJECT"], [3, "DATA_INVALID_ROLE"], [4, "DATA_INVALID_UTF8"], [5, "DATA_TRUNCATED_LINE"]]);
    expect({ records: r.json.records, valid: r.json.valid }).toEqual({ records: 5, valid: 1 });
    expect(await readFile(file)).toEqual(before);
  });
});
