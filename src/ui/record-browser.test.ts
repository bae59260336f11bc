import { describe, expect, it } from "vitest";
import type { DatasetRecord } from "../data/index.js";
import { browseRecords } from "./record-browser.js";

async function* from(records: DatasetRecord[]): AsyncGenerator<DatasetRecord> {
  yield* records;
}

const chat = (user: string, label: string, split: string): DatasetRecord => ({
  messages: [{ role: "user", content: user }, { role: "assistant", content: label }],
  metadata: { label, split },
});

const records = [chat("Where is my card?", "card_arrival", "train"), chat("My card does not work", "card_not_working", "test"), chat("Card arrived?", "card_arrival", "test")];

describe("browseRecords", () => {
  it("pages, searches case-insensitively and filters by metadata", async () => {
    const page = await browseRecords(from(records), { offset: 0, limit: 10, search: "CARD", filters: { split: "test" } });
    expect(page.total).toBe(3);
    expect(page.matched).toBe(2);
    expect(page.records.map((r) => r.index)).toEqual([1, 2]);
    expect(page.facets).toEqual({
      label: [{ value: "card_arrival", count: 2 }, { value: "card_not_working", count: 1 }],
      split: [{ value: "test", count: 2 }, { value: "train", count: 1 }],
    });
  });

  it("returns the requested window of the matches", async () => {
    const page = await browseRecords(from(records), { offset: 1, limit: 1 });
    expect(page.records).toEqual([{ index: 1, record: records[1] }]);
    expect(page.matched).toBe(3);
  });
});
