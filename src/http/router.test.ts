import { describe, expect, it } from "vitest";
import { PathRouter, decodeSegment } from "./router.js";

describe("PathRouter", () => {
  const router = new PathRouter<string>().add("GET", "/api/runs/:id", "run").add("POST", "/api/runs/:id/cancel", "cancel").add("GET", "/files/*", "file");

  it("matches method and pattern, decoding each parameter", () => {
    expect(router.match("GET", "/api/runs/a%2Fb")).toEqual({ value: "run", params: { id: "a/b" }, pattern: "/api/runs/:id" });
    expect(router.match("GET", "/files/x/y.txt")).toEqual({ value: "file", params: { "*": "x/y.txt" }, pattern: "/files/*" });
  });

  it("tells a wrong method (405 with the allowed ones) from an unknown path (null)", () => {
    expect(router.match("DELETE", "/api/runs/1")).toEqual({ allowed: ["GET"] });
    expect(router.match("GET", "/api/runs/1/cancel")).toEqual({ allowed: ["POST"] });
    expect(router.match("GET", "/api/nothing")).toBeNull();
  });

  it("treats pattern punctuation literally", () => {
    const r = new PathRouter<string>().add("GET", "/a.b", "dot");
    expect(r.match("GET", "/aXb")).toBeNull();
    expect(r.match("GET", "/a.b")).toEqual({ value: "dot", params: {}, pattern: "/a.b" });
  });
});

describe("decodeSegment", () => {
  it("decodes valid escapes and answers malformed ones with HTTP_BAD_PATH (400), not a URIError", () => {
    expect(decodeSegment("caf%C3%A9")).toBe("café");
    for (const bad of ["%zz", "%E0%A4%A", "%"]) expect(() => decodeSegment(bad)).toThrow(expect.objectContaining({ code: "HTTP_BAD_PATH", kind: "usage" }));
  });
});
