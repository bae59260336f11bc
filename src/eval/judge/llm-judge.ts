import type { CandidateBackend, ChatMessage } from "../candidates/candidate.js";
import type { ExampleScore, Metric, MetricContext } from "../metrics/metric.js";

/**
 * LLM-as-judge through any OpenAI-compatible endpoint. "score": the judge rates the output 1–5 against the
 * rubric, n times; the value is the mean and agreement is the share of repeats equal to the most common
 * rating. "pairwise": the judge compares the output with a baseline candidate's output in both orders
 * (position-swapped, to cancel position bias), n times each; the value is the win rate (tie = ½) and
 * consistency is the share of swapped pairs whose verdicts agree. Human labels in the example's metadata
 * (`human_score` 1–5, or `human_preference` "candidate"|"baseline"|"tie") are compared with the judge's.
 */
export interface JudgeSpec {
  mode: "score" | "pairwise";
  rubric: string;
  repeats: number;
  /** Pairwise: the candidate the output is compared with. */
  baseline?: string;
  temperature: number;
}

export const JUDGE_VERSION = "llm_judge/1";

export function parseRating(text: string): number | null {
  const json = /"score"\s*:\s*"?([1-5])/.exec(text);
  if (json) return Number(json[1]);
  const plain = /\b([1-5])\s*(?:\/\s*5)?\b/.exec(text);
  return plain ? Number(plain[1]) : null;
}

export function parsePreference(text: string): "A" | "B" | "tie" | null {
  const json = /"winner"\s*:\s*"(A|B|tie)"/i.exec(text);
  const raw = json?.[1] ?? /\b(A|B|tie)\b/i.exec(text)?.[1];
  if (!raw) return null;
  return raw.toLowerCase() === "tie" ? "tie" : (raw.toUpperCase() as "A" | "B");
}

function scorePrompt(rubric: string, input: string, reference: string | null, output: string): ChatMessage[] {
  return [
    { role: "system", content: `You are a strict evaluator. Rubric:\n${rubric}\nRate the response from 1 (worst) to 5 (best). Reply with JSON: {"score": <1-5>, "reason": "<one sentence>"}` },
    { role: "user", content: `Task input:\n${input}\n\n${reference !== null ? `Reference answer:\n${reference}\n\n` : ""}Response to rate:\n${output}` },
  ];
}

function pairPrompt(rubric: string, input: string, a: string, b: string): ChatMessage[] {
  return [
    { role: "system", content: `You are a strict evaluator. Rubric:\n${rubric}\nDecide which response is better. Reply with JSON: {"winner": "A" | "B" | "tie", "reason": "<one sentence>"}` },
    { role: "user", content: `Task input:\n${input}\n\nResponse A:\n${a}\n\nResponse B:\n${b}` },
  ];
}

function mode(values: readonly (number | string)[]): { value: number | string | undefined; count: number } {
  const counts = new Map<number | string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best: { value: number | string | undefined; count: number } = { value: undefined, count: 0 };
  for (const [value, count] of counts) if (count > best.count) best = { value, count };
  return best;
}

export function createJudgeMetric(spec: JudgeSpec, judge: CandidateBackend, name = spec.mode === "score" ? "judge_score" : "judge_win_rate"): Metric {
  const ask = async (messages: ChatMessage[], seed: number) => (await judge.complete({ messages, maxTokens: 200, temperature: spec.temperature, seed })).text;
  const scoreMode = async ({ example, output }: MetricContext): Promise<ExampleScore> => {
    const ratings: (number | null)[] = [];
    for (let r = 0; r < spec.repeats; r++) ratings.push(parseRating(await ask(scorePrompt(spec.rubric, example.input, example.reference, output), r)));
    const valid = ratings.filter((x): x is number => x !== null);
    if (valid.length === 0) return { value: null, detail: { ratings, error: "judge gave no parseable rating" } };
    const mean = valid.reduce((a, b) => a + b, 0) / valid.length;
    const agreement = mode(valid).count / valid.length;
    const human = typeof example.metadata?.human_score === "number" ? example.metadata.human_score : undefined;
    return { value: mean, detail: { ratings, agreement, ...(human !== undefined ? { human, humanAgrees: Math.round(mean) === human } : {}) } };
  };
  const pairMode = async ({ example, output, peers }: MetricContext): Promise<ExampleScore> => {
    const base = spec.baseline ? peers?.[spec.baseline] : undefined;
    if (base === undefined || base === null) return { value: null, detail: { skipped: `no output from baseline ${spec.baseline ?? "(unset)"}` } };
    const verdicts: ("candidate" | "baseline" | "tie" | null)[] = [];
    let consistent = 0;
    for (let r = 0; r < spec.repeats; r++) {
      const first = parsePreference(await ask(pairPrompt(spec.rubric, example.input, output, base), 2 * r));
      const second = parsePreference(await ask(pairPrompt(spec.rubric, example.input, base, output), 2 * r + 1));
      const v1 = first === null ? null : first === "tie" ? "tie" : first === "A" ? "candidate" : "baseline";
      const v2 = second === null ? null : second === "tie" ? "tie" : second === "B" ? "candidate" : "baseline";
      verdicts.push(v1, v2);
      if (v1 !== null && v1 === v2) consistent += 1;
    }
    const valid = verdicts.filter((v) => v !== null);
    if (valid.length === 0) return { value: null, detail: { verdicts, error: "judge gave no parseable verdict" } };
    const value = valid.reduce((s, v) => s + (v === "candidate" ? 1 : v === "tie" ? 0.5 : 0), 0) / valid.length;
    const human = example.metadata?.human_preference;
    const majority = mode(valid).value;
    return {
      value,
      detail: { verdicts, positionConsistency: consistent / spec.repeats, agreement: mode(valid).count / valid.length, ...(typeof human === "string" ? { human, humanAgrees: majority === human } : {}) },
    };
  };
  return {
    name,
    version: `${JUDGE_VERSION} (${spec.mode}, n=${spec.repeats}, ${JSON.stringify(judge.describe())}, rubric sha:${hashRubric(spec.rubric)})`,
    unit: spec.mode === "score" ? "likert" : "fraction",
    binary: false,
    describe: spec.mode === "score" ? "LLM judge rating 1–5 against the rubric (mean of repeats)" : `LLM judge win rate against ${spec.baseline} (position-swapped)`,
    score: spec.mode === "score" ? scoreMode : pairMode,
  };
}

function hashRubric(rubric: string): string {
  let h = 2166136261;
  for (let i = 0; i < rubric.length; i++) h = Math.imul(h ^ rubric.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, "0");
}

export interface JudgeSummary {
  meanAgreement: number | null;
  positionConsistency: number | null;
  humanAgreement: number | null;
  humanLabelled: number;
}

/** Judge reliability over an eval: mean repeat agreement, swap consistency, agreement with human labels. */
export function summarizeJudge(scores: readonly ExampleScore[]): JudgeSummary {
  const avg = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const details = scores.map((s) => s.detail ?? {});
  const agreement = details.filter((d) => typeof d.agreement === "number").map((d) => d.agreement as number);
  const consistency = details.filter((d) => typeof d.positionConsistency === "number").map((d) => d.positionConsistency as number);
  const human = details.filter((d) => typeof d.humanAgrees === "boolean").map((d) => (d.humanAgrees ? 1 : 0));
  return { meanAgreement: avg(agreement), positionConsistency: avg(consistency), humanAgreement: avg(human), humanLabelled: human.length };
}
