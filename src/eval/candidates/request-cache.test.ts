import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { lookupCompletion, RequestCache, requestHash } from "./request-cache.js";

const tmp = () => mkdtempSync(join(tmpdir(), "tk-request-cache-"));
const made = { text: "yes", promptTokens: 3, completionTokens: 1, latencyMs: 12, finishReason: "stop" };

describe("lookupCompletion", () => {
  it("misses, stores what was made, then serves it as cached with no attempts", async () => {
    const cache = new RequestCache(tmp());
    const key = { model: "m", messages: [{ role: "user", content: "hi" }] };
    const first = lookupCompletion(cache, key);
    expect(first.hit).toBeUndefined();
    expect(await first.store(made, 2)).toEqual({ ...made, cached: false, attempts: 2 });
    // The key is hashed canonically: the same fields in another order find the same entry.
    expect(lookupCompletion(cache, { messages: key.messages, model: "m" }).hit).toEqual({ ...made, cached: true, attempts: 0 });
    expect(lookupCompletion(cache, { ...key, model: "other" }).hit).toBeUndefined();
  });

  it("reads an entry written before finish reasons were recorded as finishReason null", async () => {
    const cache = new RequestCache(tmp());
    const { finishReason: _f, ...old } = made;
    await cache.put(requestHash({ k: 1 }), old);
    expect(lookupCompletion(cache, { k: 1 }).hit).toEqual({ ...old, finishReason: null, cached: true, attempts: 0 });
  });

  it("without a cache: always a miss, and storing only returns the completion", async () => {
    const entry = lookupCompletion(undefined, { k: 1 });
    expect(entry.hit).toBeUndefined();
    expect(await entry.store(made, 1)).toEqual({ ...made, cached: false, attempts: 1 });
    expect(lookupCompletion(undefined, { k: 1 }).hit).toBeUndefined();
  });
});
