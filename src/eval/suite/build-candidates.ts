import { join } from "node:path";
import { resolve } from "node:path";
import type { CandidateBackend } from "../candidates/candidate.js";
import { LlamaCppCandidate } from "../candidates/llama-cpp-candidate.js";
import { LocalCandidate } from "../candidates/local-candidate.js";
import { OpenAICandidate } from "../candidates/openai-candidate.js";
import { RequestCache } from "../candidates/request-cache.js";
import type { CandidateSpec, EvalSuite } from "./suite-config.js";
import { resolveHubModel } from "../../hub/index.js";

export function evalCacheDir(stateDir: string): string {
  return join(stateDir, "cache", "eval");
}

/** Local candidates' modelDir may be a Hub name (org/name[@rev]): resolved to its HF cache snapshot, downloading once, before any example runs. */
export async function resolveCandidateModels(candidates: CandidateSpec[], baseDir: string): Promise<CandidateSpec[]> {
  const out: CandidateSpec[] = [];
  for (const c of candidates) out.push(c.type === "local" ? { ...c, modelDir: (await resolveHubModel(c.modelDir, { baseDir }))?.dir ?? c.modelDir } : c);
  return out;
}

export function buildBackend(spec: CandidateSpec, options: { cache: RequestCache; baseDir: string; python?: string; device?: string }): CandidateBackend {
  if (spec.type === "openai") {
    return new OpenAICandidate({
      model: spec.model,
      baseURL: spec.baseURL,
      apiKeyEnv: spec.apiKeyEnv,
      timeoutMs: spec.timeoutMs,
      retry: { maxAttempts: spec.maxAttempts },
      cache: options.cache,
    });
  }
  if (spec.type === "llama-cpp") {
    return new LlamaCppCandidate({
      path: resolve(options.baseDir, spec.path),
      promptFormat: spec.promptFormat,
      modelDir: spec.modelDir ? resolve(options.baseDir, spec.modelDir) : undefined,
      template: spec.template,
      stop: spec.stop,
      threads: spec.threads,
      cache: options.cache,
    });
  }
  return new LocalCandidate({
    modelDir: resolve(options.baseDir, spec.modelDir),
    adapterDir: spec.adapterDir ? resolve(options.baseDir, spec.adapterDir) : undefined,
    stop: spec.stop,
    promptFormat: spec.promptFormat,
    template: spec.template,
    cache: options.cache,
    python: options.python,
    device: options.device,
  });
}

export function buildJudgeBackend(judge: NonNullable<EvalSuite["judge"]>, cache: RequestCache): CandidateBackend {
  return new OpenAICandidate({ model: judge.model, baseURL: judge.baseURL, apiKeyEnv: judge.apiKeyEnv, cache });
}
