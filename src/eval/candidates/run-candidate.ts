import { isTunekitError } from "../../errors/index.js";
import type { EvalExample } from "../metrics/metric.js";
import { buildPrompt, drawFewShot, type PromptSources, type PromptStrategySpec } from "../prompts/prompt-strategy.js";
import type { CandidateBackend } from "./candidate.js";
import { mapConcurrent } from "./concurrency.js";

/**
 * One candidate over the test examples: build each prompt, call the backend under a concurrency limit, and
 * record every example's outcome. A failing example is recorded with its error and never aborts the run.
 */
export interface CandidateOutput {
  exampleId: string;
  output: string | null;
  error: { code: string; message: string } | null;
  latencyMs: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  cached: boolean;
  attempts: number;
  /** "length": the answer hit maxTokens and is cut off; null when unknown or failed. */
  finishReason: string | null;
  truncated: boolean;
  retrieved?: string[];
}

export interface RunCandidateInput {
  backend: CandidateBackend;
  prompt: PromptStrategySpec;
  examples: readonly EvalExample[];
  sources: PromptSources;
  concurrency: number;
  maxTokens: number;
  temperature: number;
  seed?: number;
  /** Constrained decoding to these strings (the classification labels), for backends that support it. */
  allowed?: string[];
  signal?: AbortSignal;
  onOutput?: (out: CandidateOutput, index: number) => void;
}

export async function runCandidate(input: RunCandidateInput): Promise<CandidateOutput[]> {
  const shots = input.prompt.fewShot ? drawFewShot(input.sources.train ?? [], input.prompt.fewShot.k, input.prompt.fewShot.seed) : [];
  return mapConcurrent(
    input.examples,
    input.concurrency,
    async (example, index) => {
      const built = buildPrompt(input.prompt, example, input.sources, shots);
      let out: CandidateOutput;
      try {
        const c = await input.backend.complete({ messages: built.messages, maxTokens: input.maxTokens, temperature: input.temperature, seed: input.seed, ...(input.allowed ? { allowed: input.allowed } : {}) }, input.signal);
        out = {
          exampleId: example.id,
          output: c.text,
          error: null,
          latencyMs: c.latencyMs,
          promptTokens: c.promptTokens,
          completionTokens: c.completionTokens,
          cached: c.cached,
          attempts: c.attempts,
          finishReason: c.finishReason,
          truncated: c.finishReason === "length",
        };
      } catch (error) {
        if (input.signal?.aborted) throw error;
        const attempts = isTunekitError(error) ? Number(error.details?.attempts ?? 1) : 1;
        out = {
          exampleId: example.id,
          output: null,
          error: { code: isTunekitError(error) ? error.code : "EVAL_CANDIDATE_ERROR", message: (error as Error).message },
          latencyMs: null,
          promptTokens: null,
          completionTokens: null,
          cached: false,
          attempts,
          finishReason: null,
          truncated: false,
        };
      }
      if (built.retrieved.length) out.retrieved = built.retrieved.map((p) => p.id);
      input.onOutput?.(out, index);
      return out;
    },
    input.signal,
  );
}
