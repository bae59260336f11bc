import { describe, expect, it } from "vitest";
import { fitPair, pairConversations } from "./preference-pair.js";

const seq = (ids: number[], mask: number[]) => ({ ids, mask: Uint8Array.from(mask) });

describe("pairConversations", () => {
  it("prompt assistant turns get weight 0; the completions follow the shared prompt", () => {
    const user = { role: "user" as const, content: "Hi" };
    const earlier = { role: "assistant" as const, content: "Yes?" };
    const good = { role: "assistant" as const, content: "Hello" };
    const bad = { role: "assistant" as const, content: "Go" };
    expect(pairConversations({ input: { messages: [user, earlier, user] }, preferred_output: [good], non_preferred_output: [bad] })).toEqual([
      { messages: [user, { ...earlier, weight: 0 }, user, good] },
      { messages: [user, { ...earlier, weight: 0 }, user, bad] },
    ]);
  });
});

describe("fitPair", () => {
  const pair = { chosen: seq([1, 10, 11, 12, 20, 21], [0, 0, 0, 0, 1, 1]), rejected: seq([1, 10, 11, 12, 30], [0, 0, 0, 0, 1]) };

  it("a pair that fits is unchanged", () => {
    expect(fitPair(pair, 6, "truncate", 1)).toEqual({ chosen: pair.chosen, rejected: pair.rejected, cut: 0 });
  });

  it("cuts the shared prompt from the left after BOS, the same count in both", () => {
    expect(fitPair(pair, 4, "truncate", 1)).toEqual({
      chosen: seq([1, 12, 20, 21], [0, 0, 1, 1]),
      rejected: seq([1, 12, 30], [0, 0, 1]),
      cut: 4,
    });
  });

  it("keeps the last prompt token, then cuts the completion from the right", () => {
    expect(fitPair(pair, 3, "truncate", 1)).toEqual({
      chosen: seq([1, 12, 20], [0, 0, 1]),
      rejected: seq([1, 12, 30], [0, 0, 1]),
      cut: 5,
    });
  });

  it("without a BOS the prompt is cut from its first token", () => {
    const noBos = { chosen: seq([10, 11, 20], [0, 0, 1]), rejected: seq([10, 11, 30], [0, 0, 1]) };
    expect(fitPair(noBos, 2, "truncate", 1)).toEqual({ chosen: seq([11, 20], [0, 1]), rejected: seq([11, 30], [0, 1]), cut: 2 });
  });

  it("drop leaves a pair that does not fit out", () => {
    expect(fitPair(pair, 5, "drop", 1)).toBeNull();
  });
});
