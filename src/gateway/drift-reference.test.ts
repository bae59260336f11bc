import { describe, expect, it } from "vitest";
import { commitVersion } from "../data/index.js";
import { createTempWorkspace, fromArray } from "../data/testing/temp-workspace.js";
import { liveDriftSamples, readDriftReference } from "./drift-reference.js";
import type { RequestRecord } from "./records.js";

const chat = (text: string, metadata: Record<string, unknown>) => ({ messages: [{ role: "user" as const, content: text }, { role: "assistant" as const, content: "ok" }], metadata });

describe("drift reference", () => {
  it("is the train split (and unsplit records), never val or test", async () => {
    const ws = await createTempWorkspace();
    try {
      await commitVersion(ws, {
        dataset: "support",
        transform: "import",
        params: {},
        records: fromArray([
          chat("train one", { split: "train", label: "card" }),
          chat("held out", { split: "val", label: "loan" }),
          chat("test only", { split: "test" }),
          chat("no split", { label: 7 }),
          { text: "a text record is not a chat input" },
        ]),
      });
      expect(await readDriftReference(ws, "support", "label")).toEqual({
        samples: [{ text: "train one", label: "card" }, { text: "no split", label: undefined }],
        heldOut: 2,
      });
    } finally {
      await ws.close();
    }
  });

  it("takes the last user message of each logged request and its feedback label", () => {
    const req = (id: string, input: string | null) => ({ id, input }) as RequestRecord;
    const live = liveDriftSamples(
      [req("a", JSON.stringify([{ role: "user", content: "first" }, { role: "assistant", content: "x" }, { role: "user", content: "second" }])), req("b", null), req("c", '[{"role":"user","content":"c"}]')],
      [{ id: 1, requestId: "c", ts: 0, score: null, label: "card", correction: null, comment: null }],
    );
    expect(live).toEqual([{ text: "second", label: undefined }, { text: "c", label: "card" }]);
  });
});
