import { describe, expect, it } from "vitest";
import { Cleaner } from "./clean.js";
import type { DatasetRecord } from "./record.js";

const chat = (...turns: [string, string][]) => ({ messages: turns.map(([role, content]) => ({ role, content })) }) as DatasetRecord;

describe("Cleaner", () => {
  it("normalises NFC, control characters and whitespace, and reports each change", () => {
    const c = new Cleaner();
    const out = c.cleanRecord(chat(["user", "Cafe\u0301\u0007  \r\nok  \n\n\n\nbye "], ["assistant", "fine"]));
    expect(out).toEqual(chat(["user", "Café\nok\n\nbye"], ["assistant", "fine"]));
    expect(c.report).toEqual({
      recordsIn: 1, recordsOut: 1, changedRecords: 1, dropped: {},
      changes: {
        unicode_nfc: { count: 1, samples: [{ record: 1, path: "messages[0].content", before: "Cafe\u0301\u0007  \r\nok  \n\n\n\nbye ", after: "Café\u0007  \r\nok  \n\n\n\nbye " }] },
        control_chars_removed: { count: 1, samples: [{ record: 1, path: "messages[0].content", before: "Café\u0007  \r\nok  \n\n\n\nbye ", after: "Café  \r\nok  \n\n\n\nbye " }] },
        whitespace_normalized: { count: 1, samples: [{ record: 1, path: "messages[0].content", before: "Café  \r\nok  \n\n\n\nbye ", after: "Café\nok\n\nbye" }] },
      },
    });
  });

  it("removes empty turns and trims turns after the last assistant", () => {
    const c = new Cleaner();
    expect(c.cleanRecord(chat(["user", "q"], ["assistant", "  "], ["assistant", "a"], ["user", "thanks"]))).toEqual(chat(["user", "q"], ["assistant", "a"]));
    expect(Object.keys(c.report.changes)).toEqual(["whitespace_normalized", "empty_turn_removed", "trailing_turns_trimmed"]);
  });

  it("drops records without an assistant turn, counted and sampled", () => {
    const c = new Cleaner();
    expect(c.cleanRecord(chat(["user", "hello?"]))).toBeUndefined();
    expect(c.report.dropped).toEqual({ no_assistant_turn: { count: 1, samples: [{ record: 1, reason: "no_assistant_turn", preview: '{"messages":[{"role":"user","content":"hello?"}]}' }] } });
    expect(new Cleaner({ finalAssistant: "drop" }).cleanRecord(chat(["user", "q"], ["assistant", "a"], ["user", "x"]))).toBeUndefined();
  });

  it("strips HTML when asked and enforces length bounds", () => {
    const c = new Cleaner({ stripHtml: true, maxChars: 10 });
    expect(c.cleanRecord({ text: "<p>Fish &amp; chips</p>" } as DatasetRecord)).toBeUndefined();
    expect(c.report.changes.html_stripped!.samples[0]!.after).toBe("Fish & chips");
    expect(c.report.dropped.above_max_chars!.count).toBe(1);
    expect(new Cleaner({ stripHtml: true }).cleanRecord({ text: "<b>hi</b>" } as DatasetRecord)).toEqual({ text: "hi" });
  });

  it("does not modify its input", () => {
    const input = chat(["user", " q "], ["assistant", "a"]);
    const copy = structuredClone(input);
    new Cleaner().cleanRecord(input);
    expect(input).toEqual(copy);
  });
});
