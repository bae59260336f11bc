import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { STORIES260K } from "../test-support/paths.js";
import { ServingWorker } from "./serving-worker.js";
import { WorkerClient } from "./worker-client.js";
import type { WorkerEvent } from "./worker-events.js";

const FAKE = fileURLToPath(new URL("./testing/fake-serve-worker.py", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "tunekit-serving-worker-"));
const LOG = join(dir, "log.jsonl");
const A = join(dir, "adapter-a");
const B = join(dir, "adapter-b");
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Line = { kind: string; id: string; adapters?: string[]; adapter?: string | null; finish_reason?: string };
const log = (): Line[] => (existsSync(LOG) ? readFileSync(LOG, "utf8").trim().split("\n").map((l) => JSON.parse(l) as Line) : []);

async function drain(events: AsyncGenerator<WorkerEvent>): Promise<number[]> {
  const ids: number[] = [];
  for await (const e of events) if (e.event === "token") ids.push(...e.ids);
  return ids;
}

describe("ServingWorker", () => {
  it("starts serving with the registered adapters and restarts with a new one only after the requests in flight", async () => {
    const env = { ...process.env, FAKE_SERVE_LOG: LOG, FAKE_SERVE_DELAY_MS: "30", FAKE_SERVE_REPLIES: JSON.stringify({ "": [5, 6, 7, 8, 9, 10], [A]: [1, 2], [B]: [3, 4] }) };
    let starts = 0;
    const serving = new ServingWorker(
      () => {
        starts++;
        return WorkerClient.start({ python: "/usr/bin/python3", args: [FAKE], env });
      },
      STORIES260K,
      "cpu",
      { maxBatch: 4, maxLen: 64 },
    );
    try {
      serving.register(A);
      const base = drain(serving.submit({ prompt: [1], max_new_tokens: 6 }, undefined));
      const a = drain(serving.submit({ prompt: [1], max_new_tokens: 6 }, A));
      await new Promise((r) => setTimeout(r, 60)); // both running
      const b = drain(serving.submit({ prompt: [1], max_new_tokens: 6 }, B)); // not loaded yet
      expect(await Promise.all([base, a, b])).toEqual([[5, 6, 7, 8, 9, 10], [1, 2], [3, 4]]);
      const kinds = log().map((l) => (l.kind === "serve_start" ? `start:${(l.adapters ?? []).length}` : l.kind === "submit" ? `submit:${l.adapter ?? "base"}` : l.kind === "done" ? "done" : null)).filter(Boolean);
      // One worker; the second serve_start (with both adapters) waits for both running requests to finish.
      expect(kinds).toEqual(["start:1", "submit:base", `submit:${A}`, "done", "done", "start:2", `submit:${B}`, "done"]);
      expect(starts).toBe(1);

      // More new tokens than the slot holds after the prompt: cut to what fits.
      await drain(serving.submit({ prompt: Array.from({ length: 60 }, () => 1), max_new_tokens: 100 }, A));
      expect(log().filter((l) => l.kind === "submit").map((l) => (l as { max_new_tokens?: number }).max_new_tokens)).toEqual([6, 6, 6, 4]);
    } finally {
      await serving.close();
    }
  }, 30_000);
});
