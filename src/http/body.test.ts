import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { exceedsJsonDepth, parseJson, parseJsonObject, readBody } from "./body.js";

describe("JSON depth and parsing", () => {
  it("measures nesting iteratively, ignoring brackets inside strings and escaped quotes", () => {
    const depth = (text: string, max: number) => exceedsJsonDepth(Buffer.from(text), max);
    expect(depth('{"a":[1,{"b":2}]}', 3)).toBe(false);
    expect(depth('{"a":[1,{"b":2}]}', 2)).toBe(true);
    expect(depth('{"a":"[[[[[[\\"[[[["}', 1)).toBe(false); // an escaped quote does not end the string
    expect(depth('{"a":"x\\\\"}', 1)).toBe(false); // an escaped backslash does not escape the quote after it
    expect(depth('{"a":"x\\\\",  "b":[[1]]}', 2)).toBe(true);
    expect(depth('{"ü€":"[[[[","b":[1]}', 2)).toBe(false);
    expect(depth("[".repeat(100_000), 64)).toBe(true);
  });

  it("refuses deep JSON before parsing, and bad JSON, with 400-kind codes", () => {
    const deep = Buffer.from("[".repeat(5000) + "]".repeat(5000));
    expect(() => parseJson(deep, 64)).toThrow(expect.objectContaining({ code: "HTTP_JSON_TOO_DEEP", kind: "usage" }));
    expect(() => parseJson(Buffer.from("{nope"), 64)).toThrow(expect.objectContaining({ code: "HTTP_BAD_JSON", kind: "usage" }));
    expect(() => parseJsonObject(Buffer.from("[1]"), 64)).toThrow(expect.objectContaining({ code: "HTTP_BAD_JSON", message: "the request body must be a JSON object, not an array" }));
    expect(parseJsonObject(Buffer.alloc(0), 64, true)).toEqual({});
    expect(parseJsonObject(Buffer.from('{"a":[1]}'), 64)).toEqual({ a: [1] });
  });
});

describe("readBody", () => {
  let server: http.Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
  });

  /** A server that reads each body under `limits` and answers with the outcome. */
  async function start(limits: { maxBytes: number; timeoutMs: number }): Promise<number> {
    server = http.createServer((req, res) => {
      readBody(req, limits).then(
        (b) => res.end(`ok ${b.length}`),
        (e: { code?: string }) => res.end(`error ${e.code}`),
      );
    });
    await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
    return (server.address() as AddressInfo).port;
  }

  function request(port: number, write: (req: http.ClientRequest) => void, headers: Record<string, string | number> = {}): Promise<string> {
    return new Promise((resolve, reject) => {
      const req = http.request({ host: "127.0.0.1", port, method: "POST", headers }, (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString()));
        res.on("end", () => resolve(text));
      });
      req.on("error", reject);
      write(req);
    });
  }

  it("reads a body within the limits", async () => {
    const port = await start({ maxBytes: 10, timeoutMs: 1000 });
    expect(await request(port, (r) => r.end("hello"))).toBe("ok 5");
  });

  it("refuses a declared or streamed body over the size limit", async () => {
    const port = await start({ maxBytes: 10, timeoutMs: 1000 });
    expect(await request(port, (r) => r.end("x".repeat(11)))).toBe("error HTTP_BODY_TOO_LARGE");
    expect(await request(port, (r) => { r.write("x".repeat(8)); r.end("x".repeat(8)); }, { "transfer-encoding": "chunked" })).toBe("error HTTP_BODY_TOO_LARGE");
  });

  it("times out a body trickling in one byte at a time (slowloris) at the total deadline", async () => {
    const port = await start({ maxBytes: 1000, timeoutMs: 300 });
    const t0 = performance.now();
    let timer: NodeJS.Timeout | undefined;
    const answer = await request(port, (r) => {
      r.write("{");
      timer = setInterval(() => r.write(" "), 50); // never idle, never finished
    }, { "content-length": 1000 });
    clearInterval(timer);
    expect(answer).toBe("error HTTP_BODY_TIMEOUT");
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});
