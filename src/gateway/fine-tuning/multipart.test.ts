import { describe, expect, it } from "vitest";
import { boundaryOf, readMultipart } from "./multipart.js";

const BODY = ["--XyZ", 'Content-Disposition: form-data; name="purpose"', "", "fine-tune", "--XyZ", 'Content-Disposition: form-data; name="file"; filename="t.jsonl"', "Content-Type: application/jsonl", "", '{"a":1}\r\n{"b":"--XyZ not a boundary"}', "--XyZ--", ""].join("\r\n");

async function* chunks(text: string, size: number): AsyncGenerator<Buffer> {
  const bytes = Buffer.from(text);
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

async function parse(size: number, body = BODY, max = 1 << 20) {
  const file: Buffer[] = [];
  const result = await readMultipart(chunks(body, size), "XyZ", () => ({ write: async (c) => void file.push(Buffer.from(c)) }), max);
  return { ...result, content: Buffer.concat(file).toString() };
}

describe("readMultipart", () => {
  it("streams the file part and collects fields, whatever the chunking", async () => {
    const expected = { fields: { purpose: "fine-tune" }, file: { field: "file", filename: "t.jsonl", bytes: 37 }, content: '{"a":1}\r\n{"b":"--XyZ not a boundary"}' };
    for (const size of [1, 3, 7, 64, 4096]) expect(await parse(size)).toEqual(expected);
  });

  it("refuses a body without its closing boundary", async () => {
    await expect(parse(5, BODY.slice(0, BODY.indexOf("--XyZ--")))).rejects.toMatchObject({ code: "FT_FILE_BAD_MULTIPART", message: "the multipart/form-data body is malformed: the body ended before the closing boundary" });
  });

  it("refuses a body over the limit with 413's error", async () => {
    await expect(parse(16, BODY, 40)).rejects.toMatchObject({ code: "FT_FILE_TOO_LARGE", kind: "too_large" });
  });

  it("reads the boundary, quoted or not, and refuses other content types", () => {
    expect(boundaryOf('multipart/form-data; boundary="a b"')).toBe("a b");
    expect(boundaryOf("multipart/form-data; charset=utf-8; boundary=----x1")).toBe("----x1");
    expect(() => boundaryOf("application/json")).toThrow('POST /v1/files needs a multipart/form-data body, got content-type "application/json"');
  });
});
