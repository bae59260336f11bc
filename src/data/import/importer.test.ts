import { describe, expect, it } from "vitest";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { prepareImport, type ImportOptions } from "./importer.js";
import { readJsonlFile } from "../jsonl.js";
import { validateEntries } from "../validate/validator.js";
import { BANKING77_CSV, BITEXT_CSV, collect } from "../testing/temp-workspace.js";

async function file(name: string, content: string | Buffer): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "tk-import-"));
  const path = join(dir, name);
  await writeFile(path, content);
  return path;
}
async function run(path: string, options: ImportOptions = {}) {
  const prepared = await prepareImport([path], options);
  const records = await collect(prepared.records());
  return { records, report: prepared.report, reason: prepared.detections[0]!.reason };
}
const sha = async (p: string) => createHash("sha256").update(await readFile(p)).digest("hex");

describe("JSONL shapes", () => {
  it("skips and reports lines over --max-line-bytes, keeping the rest", async () => {
    const path = await file("long.jsonl", `{"text":"a"}\n{"text":"${"x".repeat(3000)}"}\n{"text":"b"}\n`);
    const { records, report } = await run(path, { maxLineBytes: 1000 });
    expect(records).toEqual([{ text: "a" }, { text: "b" }]);
    expect(report.problemsByCode).toEqual({ DATA_LINE_TOO_LONG: 1 });
  });

  it("detects OpenAI chat and says why; reports bad lines", async () => {
    const good = '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}],"id":"x"}';
    const path = await file("a.jsonl", `${good}\n${good}\n{"messages":[{"role":"bot","content":"a"}]}\nnot json\n`);
    const { records, report, reason } = await run(path);
    expect(reason).toBe("OpenAI chat JSONL: 3/4 sampled lines have a messages array");
    expect(records[0]).toEqual({ messages: [{ role: "user", content: "q" }, { role: "assistant", content: "a" }], metadata: { id: "x" } });
    expect({ imported: report.imported, rejected: report.rejected, byCode: report.problemsByCode }).toEqual({
      imported: 2, rejected: 2, byCode: { DATA_INVALID_ROLE: 1, DATA_INVALID_JSON: 1 } });
    expect(report.problems[0]!.message).toBe('line 3: messages[0].role "bot" is not one of system|user|assistant|tool');
  });

  it("maps prompt/completion, Alpaca and ShareGPT", async () => {
    const pc = await run(await file("pc.jsonl", '{"prompt":"2+2?","completion":"4"}\n'));
    expect(pc.records).toEqual([{ messages: [{ role: "user", content: "2+2?" }, { role: "assistant", content: "4" }] }]);
    expect(pc.reason).toBe("prompt/completion JSONL: 1/1 sampled lines have prompt and completion");
    const alpaca = await run(await file("al.jsonl", '{"instruction":"Translate","input":"hola","output":"hello","category":"mt"}\n'));
    expect(alpaca.records).toEqual([{ messages: [{ role: "user", content: "Translate\n\nhola" }, { role: "assistant", content: "hello" }], metadata: { category: "mt" } }]);
    const sg = await run(await file("sg.jsonl", '{"conversations":[{"from":"system","value":"s"},{"from":"human","value":"hi"},{"from":"gpt","value":"yo"}]}\n{"conversations":[{"from":"alien","value":"?"}]}\n'));
    expect(sg.records).toEqual([{ messages: [{ role: "system", content: "s" }, { role: "user", content: "hi" }, { role: "assistant", content: "yo" }] }]);
    expect(sg.report.problems.map((p) => p.message)).toEqual(['line 2: conversations[0].from "alien" is not a known speaker (human, gpt, system, …)']);
  });

  it("rejects what validate's structural rules reject, line by line, and keeps prompt-only chat records", async () => {
    const path = await file("mixed.jsonl", [
      '{"messages":[{"role":"user","content":"q"},{"role":"assistant","content":"a"}]}',
      '{"messages":[{"role":"user","content":"no answer"}],"metadata":"a string"}',
      '{"text":"t","metadata":[1]}',
      '{"messages":[{"role":"user","content":"prompt only, for eval"}],"source":"faq"}',
      "",
    ].join("\n"));
    const { records, report } = await run(path);
    expect(records).toEqual([
      { messages: [{ role: "user", content: "q" }, { role: "assistant", content: "a" }] },
      { messages: [{ role: "user", content: "prompt only, for eval" }], metadata: { source: "faq" } },
    ]);
    expect({ problems: report.problems.map((p) => [p.line, p.code, p.message]), promptOnly: report.promptOnly }).toEqual({
      problems: [
        [2, "DATA_WRONG_TYPE", "line 2: metadata is string, expected an object"],
        [3, "DATA_WRONG_TYPE", "line 3: metadata is array, expected an object"],
      ],
      promptOnly: 1,
    });
    // One set of rules: validate rejects exactly these lines, with the same codes.
    const validated = await validateEntries(readJsonlFile(path));
    expect(validated.issues.filter((i) => i.severity === "error").map((i) => [i.line, i.code])).toEqual([[2, "DATA_WRONG_TYPE"], [3, "DATA_WRONG_TYPE"]]);
  });

  it("refuses a JSONL file with no known shape, with a fix", async () => {
    await expect(prepareImport([await file("x.jsonl", '{"foo":1}\n')])).rejects.toMatchObject({ code: "DATA_FORMAT_UNKNOWN" });
  });
});

describe("CSV/TSV", () => {
  it("parses quoted fields with newlines, keeps other columns as metadata", async () => {
    const path = await file("t.csv", 'instruction,response,intent\n"Line one\nline two","Say ""hi""",greet\n');
    const { records, reason } = await run(path);
    expect(reason).toBe('CSV (extension .csv), header: instruction, response, intent; columns named "instruction", "response" look like user=instruction,assistant=response');
    expect(records).toEqual([{ messages: [{ role: "user", content: "Line one\nline two" }, { role: "assistant", content: 'Say "hi"' }], metadata: { intent: "greet" } }]);
  });

  it("uses --map and a system prompt; reports empty cells and an unclosed quote", async () => {
    const path = await file("t.tsv", "q\ta\tlabel\nhello\thi\tx\n\tmissing\ty\nok\t\"unterminated\n");
    const { records, report } = await run(path, { map: "user=q,assistant=a", system: "Be kind." });
    expect(records).toEqual([{ messages: [{ role: "system", content: "Be kind." }, { role: "user", content: "hello" }, { role: "assistant", content: "hi" }], metadata: { label: "x" } }]);
    expect(report.problems.map((p) => [p.line, p.code])).toEqual([[3, "DATA_IMPORT_UNMAPPABLE"], [4, "DATA_TRUNCATED_LINE"]]);
  });

  it("keeps a column used for a turn as metadata too with metadata.KEY=COLUMN, and renames unmapped ones", async () => {
    const path = await file("c.csv", "text,category,source\nwhere is my card?,card_arrival,web\n");
    const { records, reason } = await run(path, { map: "user=text,assistant=category,metadata.label=category,metadata.channel=source" });
    expect(reason).toBe("CSV (extension .csv), header: text, category, source; mapping from --map: user=text,assistant=category,metadata.label=category,metadata.channel=source");
    expect(records).toEqual([{ messages: [{ role: "user", content: "where is my card?" }, { role: "assistant", content: "card_arrival" }], metadata: { label: "card_arrival", channel: "web" } }]);
  });

  it("refuses a --map entry that is neither ROLE=COLUMN nor metadata.KEY=COLUMN (DATA_BAD_MAP)", async () => {
    const path = await file("c.csv", "text,category\nq,a\n");
    await expect(prepareImport([path], { map: "user=text,assistant=category,label=category" })).rejects.toMatchObject({
      code: "DATA_BAD_MAP",
      message: '--map entry "label=category" is not ROLE=COLUMN with ROLE one of system, user, assistant, text, or metadata.KEY=COLUMN',
    });
  });

  it("refuses a metadata key that would overwrite another column's metadata (DATA_BAD_MAP)", async () => {
    const path = await file("c.csv", "text,category,label\nq,a,old\n");
    await expect(prepareImport([path], { map: "user=text,assistant=category,metadata.label=category" })).rejects.toMatchObject({
      code: "DATA_BAD_MAP",
      fix: 'pick another key, e.g. --map metadata.label_2=category, or map column "label" too',
    });
  });

  it("refuses a mapped column the header lacks (DATA_MAP_COLUMN_MISSING)", async () => {
    const path = await file("c.csv", "text,category\nq,a\n");
    await expect(prepareImport([path], { map: "user=text,assistant=category,metadata.label=intent" })).rejects.toMatchObject({
      code: "DATA_MAP_COLUMN_MISSING",
      message: `${path} has no column "intent" (columns: text, category)`,
    });
  });

  it("reports an unclosed quote at the line where it opens, not where the file ends", async () => {
    const path = await file("q.csv", 'text,category\nok,fine\n\n"I am waiting on my card,card_arrival\nwhere is it?,card_arrival\nhello,greet\n');
    const { records, report } = await run(path, { map: "user=text,assistant=category" });
    expect(records).toEqual([{ messages: [{ role: "user", content: "ok" }, { role: "assistant", content: "fine" }] }]);
    expect(report.problems).toEqual([{
      file: path, line: 4, code: "DATA_TRUNCATED_LINE",
      message: "line 4: a quoted field opens here and is never closed, so lines 4–6 could not be read as rows",
      fix: 'close the quote on line 4, or double a quote that belongs to the text (""); if the file was cut off, export it again',
    }]);
  });

  it("asks for --map when the columns say nothing", async () => {
    await expect(prepareImport([BANKING77_CSV])).rejects.toMatchObject({
      code: "DATA_MAP_REQUIRED",
      fix: "pass --map, e.g. --map user=text,assistant=category (other columns are kept as metadata)",
    });
  });

  it("imports banking77 (10,003 rows) and leaves the source untouched", async () => {
    const before = await sha(BANKING77_CSV);
    const { records, report } = await run(BANKING77_CSV, { map: "user=text,assistant=category" });
    expect(report.imported).toBe(10_003);
    expect(report.rejected).toBe(0);
    expect(records[0]).toEqual({ messages: [{ role: "user", content: "I am still waiting on my card?" }, { role: "assistant", content: "card_arrival" }] });
    expect(await sha(BANKING77_CSV)).toBe(before);
  });

  it("imports Bitext with multi-line quoted responses and intent metadata", async () => {
    const before = await sha(BITEXT_CSV);
    const { records, report, reason } = await run(BITEXT_CSV);
    expect(reason).toContain('columns named "instruction", "response" look like user=instruction,assistant=response');
    expect(report.rejected).toBe(0);
    expect(report.imported).toBeGreaterThan(1000);
    const first = records[0] as { messages: { content: string }[]; metadata: Record<string, string> };
    expect(first.messages[0]!.content).toBe("how can I cancel purchase 113542617735902?");
    expect(first.messages[1]!.content).toMatch(/\r?\n\r?\n1\. Firstly, connect/);
    expect(first.metadata.intent).toBe("cancel_order");
    expect(await sha(BITEXT_CSV)).toBe(before);
  });
});

describe("documents", () => {
  it("chunks Markdown by headings and paragraphs up to a size", async () => {
    const md = "# Refunds\n\nRefunds take 5 days.\n\nAsk support.\n\n## Cards\n\n" + "Card text. ".repeat(30) + "\n";
    const { records, reason } = await run(await file("faq.md", md), { chunkChars: 200 });
    expect(reason).toBe("extension .md");
    expect(records.map((r) => (r as unknown as { metadata: { heading: string } }).metadata.heading)).toEqual(["Refunds", "Cards", "Cards", "Cards"]);
    expect((records[0] as { text: string }).text).toBe("# Refunds\n\nRefunds take 5 days.\n\nAsk support.");
    expect(records.every((r) => (r as { text: string }).text.length <= 200)).toBe(true);
  });
});

describe("conversation logs", () => {
  it("groups scattered rows by id, orders by timestamp and merges consecutive turns", async () => {
    const csv = "conv,ts,speaker,msg\nB,2,agent,b-reply\nA,3,agent,a-reply\nA,1,customer,a-hello\nB,1,customer,b-hello\nA,2,customer,a-more\nC,1,robot,?\n";
    const prepared = await prepareImport([await file("log.csv", csv)], { conversationId: "conv", timestamp: "ts", role: "speaker", content: "msg" });
    const records = await collect(prepared.records());
    const byId = Object.fromEntries(records.map((r) => [(r as unknown as { metadata: { conversation_id: string } }).metadata.conversation_id, r]));
    expect(byId.A).toEqual({ messages: [{ role: "user", content: "a-hello\na-more" }, { role: "assistant", content: "a-reply" }], metadata: { conversation_id: "A", rows: 3 } });
    expect(byId.B).toEqual({ messages: [{ role: "user", content: "b-hello" }, { role: "assistant", content: "b-reply" }], metadata: { conversation_id: "B", rows: 2 } });
    expect(prepared.report.mergedTurns).toBe(1);
    expect(prepared.report.problemsByCode).toEqual({ DATA_LOG_ROW: 1 });
  });
});
