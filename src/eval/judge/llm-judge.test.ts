import { afterEach, describe, expect, it } from "vitest";
import { OpenAICandidate } from "../candidates/openai-candidate.js";
import { startChatStub, type ChatStubServer } from "../testing/chat-stub-server.js";
import { createJudgeMetric, parsePreference, parseRating, summarizeJudge } from "./llm-judge.js";

let server: ChatStubServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

describe("LLM judge", () => {
  it("parses ratings and preferences", () => {
    expect([parseRating('{"score": 4, "reason": "ok"}'), parseRating("I give it 2/5"), parseRating("great")]).toEqual([4, 2, null]);
    expect([parsePreference('{"winner": "B"}'), parsePreference("Tie."), parsePreference("neither")]).toEqual(["B", "tie", null]);
  });

  it("scores n times and reports agreement and agreement with human labels", async () => {
    const ratings = [5, 5, 4];
    server = await startChatStub((req, i) => `{"score": ${ratings[i % 3]}, "reason": "r"}`);
    const judge = createJudgeMetric({ mode: "score", rubric: "Be correct.", repeats: 3, temperature: 0.7 }, new OpenAICandidate({ model: "judge", baseURL: server.url }));
    const s = await judge.score({ example: { id: "1", input: "2+2?", reference: "4", metadata: { human_score: 5 } }, output: "4" });
    expect(s).toEqual({ value: 14 / 3, detail: { ratings: [5, 5, 4], agreement: 2 / 3, human: 5, humanAgrees: true } });
    expect(server.calls).toHaveLength(3);
    expect(server.calls[0].messages[0].content).toContain("Be correct.");
    expect(summarizeJudge([s])).toEqual({ meanAgreement: 2 / 3, positionConsistency: null, humanAgreement: 1, humanLabelled: 1 });
  });

  it("pairwise: swaps positions and measures consistency", async () => {
    // A judge with position bias: always prefers whichever response is shown first.
    server = await startChatStub(() => '{"winner": "A"}');
    const judge = createJudgeMetric({ mode: "pairwise", rubric: "Helpful.", repeats: 2, baseline: "base", temperature: 0 }, new OpenAICandidate({ model: "judge", baseURL: server.url }));
    const s = await judge.score({ example: { id: "1", input: "q", reference: null }, output: "mine", peers: { base: "theirs" } });
    expect(s).toEqual({ value: 0.5, detail: { verdicts: ["candidate", "baseline", "candidate", "baseline"], positionConsistency: 0, agreement: 0.5 } });
    const userTurns = server.calls.map((c) => c.messages[1].content);
    expect(userTurns[0]).toContain("Response A:\nmine");
    expect(userTurns[1]).toContain("Response A:\ntheirs");
  });
});
