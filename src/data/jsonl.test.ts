import { describe, expect, it } from "vitest";
import { mkdtemp, readFile, readdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { readJsonlFile, readJsonlStream, type JsonlEntry } from "./jsonl.js";
import { canonicalJson } from "./canonical-json.js";
import { createJsonlWriter } from "./jsonl-writer.js";

async function collect(chunks: (string | Uint8Array)[], maxLineBytes?: number) {
  const reader = readJsonlStream(
    async function* () {
      for (const c of chunks) yield typeof c === "string" ? Buffer.from(c) : c;
    },
    { maxLineBytes },
  );
  const entries: JsonlEntry[] = [];
  for await (const e of reader) entries.push(e);
  return { entries, summary: reader.summary };
}

describe("readJsonl", () => {
  it("reads objects, across chunk boundaries", async () => {
    const { entries, summary } = await collect(['{"a":1}\n{"b"', ':2}\n']);
    expect(entries).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 2, value: { b: 2 } },
    ]);
    expect(summary).toEqual({ lines: 2, blankLines: 0, bom: false, crlfLines: 0, records: 2, problems: 0, bytes: 16 });
  });

  it("accepts a BOM and CRLF and counts them", async () => {
    const { entries, summary } = await collect(['\uFEFF{"a":1}\r\n{"a":2}\r\n']);
    expect(entries).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 2, value: { a: 2 } },
    ]);
    expect(summary.bom).toBe(true);
    expect(summary.crlfLines).toBe(2);
  });

  it("skips blank lines but keeps line numbers", async () => {
    const { entries, summary } = await collect(['{"a":1}\n\n  \n{"a":2}']);
    expect(entries).toEqual([
      { line: 1, value: { a: 1 } },
      { line: 4, value: { a: 2 } },
    ]);
    expect(summary.blankLines).toBe(2);
  });

  it("reports invalid UTF-8 on its line and carries on", async () => {
    const bad = Buffer.concat([Buffer.from('{"a":"x'), Buffer.from([0xff, 0xfe]), Buffer.from('"}\n{"a":2}\n')]);
    const { entries } = await collect([bad]);
    expect(entries[0]!.problem).toEqual({
      line: 1,
      code: "DATA_INVALID_UTF8",
      message: "line 1 is not valid UTF-8 (first bad byte 0xff at byte 7)",
      fix: "re-encode the file as UTF-8 (e.g. `iconv -f latin1 -t utf-8 in.jsonl > out.jsonl`) or fix the line",
    });
    expect(entries[1]).toEqual({ line: 2, value: { a: 2 } });
  });

  it("reports a truncated last line", async () => {
    const { entries } = await collect(['{"a":1}\n{"messages":[{"role":"us']);
    expect(entries[1]!.problem?.code).toBe("DATA_TRUNCATED_LINE");
    expect(entries[1]!.line).toBe(2);
  });

  it("accepts a complete last line without a newline", async () => {
    const { entries } = await collect(['{"a":1}']);
    expect(entries).toEqual([{ line: 1, value: { a: 1 } }]);
  });

  it("reports invalid JSON in the middle", async () => {
    const { entries } = await collect(['{"a":1,}\n{"a":2}\n']);
    expect(entries[0]!.problem?.code).toBe("DATA_INVALID_JSON");
    expect(entries[1]).toEqual({ line: 2, value: { a: 2 } });
  });

  it("reports JSON that is not an object", async () => {
    const { entries } = await collect(['[1,2]\n"s"\nnull\n42\n']);
    expect(entries.map((e) => e.problem?.message)).toEqual([
      "line 1 is an array, not a JSON object",
      "line 2 is a string, not a JSON object",
      "line 3 is null, not a JSON object",
      "line 4 is a number, not a JSON object",
    ]);
  });

  it("reports an over-long line without buffering it, streamed in pieces", async () => {
    const piece = "x".repeat(1024);
    const chunks = ['{"a":1}\n{"t":"', ...Array.from({ length: 100 }, () => piece), '"}\n{"a":3}\n'];
    const { entries } = await collect(chunks, 10_000);
    expect(entries[0]).toEqual({ line: 1, value: { a: 1 } });
    expect(entries[1]!.problem).toEqual({
      line: 2,
      code: "DATA_LINE_TOO_LONG",
      message: "line 2 is 100.0 KiB, over the 9.8 KiB line limit; it was skipped",
      fix: "split the record, remove embedded blobs (images, base64), or raise the limit with --max-line-bytes",
    });
    expect(entries[2]).toEqual({ line: 3, value: { a: 3 } });
  });

  it("reports a 50 MB line in a real file with the default limit", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tk-jsonl-"));
    const file = join(dir, "big.jsonl");
    await writeFile(file, '{"a":1}\n{"t":"' + "y".repeat(50 * 1024 * 1024) + '"}\n{"a":2}\n');
    const reader = readJsonlFile(file);
    const entries: JsonlEntry[] = [];
    for await (const e of reader) entries.push(e);
    expect(entries.map((e) => e.problem?.code ?? "ok")).toEqual(["ok", "DATA_LINE_TOO_LONG", "ok"]);
  });
});

describe("canonicalJson", () => {
  it("sorts keys at every depth and drops whitespace and undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined }, é: "x" })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1,"é":"x"}',
    );
  });
});

describe("createJsonlWriter", () => {
  it("writes canonical lines and renames atomically on close", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tk-writer-"));
    const file = join(dir, "out", "a.jsonl");
    const w = await createJsonlWriter(file);
    await w.write({ b: 1, a: 2 });
    await w.write({ text: "hi" });
    expect(await readdir(join(dir, "out"))).toHaveLength(1); // only the temp file so far
    await w.close();
    expect(await readFile(file, "utf8")).toBe('{"a":2,"b":1}\n{"text":"hi"}\n');
    expect(await readdir(join(dir, "out"))).toEqual(["a.jsonl"]);
  });

  it("leaves nothing behind on abort", async () => {
    const dir = await mkdtemp(join(tmpdir(), "tk-writer-"));
    const w = await createJsonlWriter(join(dir, "a.jsonl"));
    await w.write({ a: 1 });
    await w.abort();
    expect(await readdir(dir)).toEqual([]);
  });
});
