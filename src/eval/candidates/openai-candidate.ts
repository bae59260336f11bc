import OpenAI from "openai";
import { AuthError, ConfigError, ProviderError } from "../../errors/index.js";
import type { CandidateBackend, Completion, CompletionRequest } from "./candidate.js";
import { lookupCompletion, type RequestCache } from "./request-cache.js";
import { DEFAULT_RETRY, isRetryableStatus, parseRetryAfterMs, withRetry, type RetryPolicy } from "../../runtime/index.js";

/**
 * Any OpenAI-compatible chat-completions endpoint (OpenAI, vLLM, Ollama, tunekit's gateway, a hosted
 * fine-tuned model id) through the official SDK with a base URL. The SDK's own retries are off: this class
 * retries 429/5xx/connection errors with jittered exponential backoff and counts attempts, and caches
 * finished answers by request hash.
 */
export interface OpenAICandidateOptions {
  model: string;
  baseURL?: string;
  apiKey?: string;
  /** Name of the env var holding the key (recorded instead of the key). */
  apiKeyEnv?: string;
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  cache?: RequestCache;
  random?: () => number;
}

/**
 * Why an OpenAI-compatible candidate refuses `constrain: labels`: chat completions can bias single tokens
 * (logit_bias) but not restrict the answer to a set of multi-token strings, and structured outputs change the
 * answer's shape (JSON) and are not offered by every compatible server. Refusing is the honest answer.
 */
export const CONSTRAIN_UNSUPPORTED_FIX = "use constrain: labels with a local candidate (type: local), or drop it and keep classification.match: contains";

export function constrainUnsupported(model: string): ConfigError {
  return new ConfigError("EVAL_CONSTRAIN_UNSUPPORTED", `constrained decoding to the label set is not available for the OpenAI-compatible model ${model}: the chat-completions API can bias single tokens (logit_bias), not restrict an answer to multi-token labels`, {
    fix: CONSTRAIN_UNSUPPORTED_FIX,
  });
}

export class OpenAICandidate implements CandidateBackend {
  private readonly client: OpenAI;
  private readonly retry: RetryPolicy;

  constructor(private readonly options: OpenAICandidateOptions) {
    this.client = new OpenAI({
      apiKey: options.apiKey ?? (options.apiKeyEnv ? process.env[options.apiKeyEnv] : undefined) ?? "not-needed",
      baseURL: options.baseURL,
      maxRetries: 0,
      timeout: options.timeoutMs ?? 120_000,
    });
    this.retry = { ...DEFAULT_RETRY, ...options.retry };
  }

  describe(): Record<string, unknown> {
    return { type: "openai", model: this.options.model, baseURL: this.options.baseURL ?? "https://api.openai.com/v1", apiKeyEnv: this.options.apiKeyEnv ?? null };
  }

  async complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion> {
    if (request.allowed) throw constrainUnsupported(this.options.model);
    const entry = lookupCompletion(this.options.cache, { baseURL: this.options.baseURL ?? null, model: this.options.model, ...request });
    if (entry.hit) return entry.hit;
    const statusOf = (error: unknown) => (error instanceof OpenAI.APIError ? error.status : undefined);
    let attempt = 0;
    try {
      return await withRetry(async (n) => {
        attempt = n;
        const started = performance.now();
        const res = await this.client.chat.completions.create(
          {
            model: this.options.model,
            messages: request.messages,
            max_tokens: request.maxTokens,
            temperature: request.temperature,
            ...(request.seed === undefined ? {} : { seed: request.seed }),
          },
          { signal },
        );
        const latencyMs = performance.now() - started;
        const text = res.choices[0]?.message?.content ?? "";
        const finishReason = res.choices[0]?.finish_reason ?? null;
        return await entry.store({ text, promptTokens: res.usage?.prompt_tokens ?? null, completionTokens: res.usage?.completion_tokens ?? null, latencyMs, finishReason }, n);
      }, {
        policy: this.retry,
        signal,
        random: this.options.random,
        // Only the SDK's own errors are transient (APIConnectionError has no status); a bug is not retried.
        classify: (error) => error instanceof OpenAI.APIError
          ? { retry: isRetryableStatus(error.status), retryAfterMs: parseRetryAfterMs(error.headers?.get?.("retry-after")) }
          : { retry: false },
      });
    } catch (error) {
      if (signal?.aborted) throw error;
      const status = statusOf(error);
      if (status === 401 || status === 403) {
        throw new AuthError("EVAL_ENDPOINT_AUTH", `${this.options.baseURL ?? "OpenAI"} refused the key for model ${this.options.model} (HTTP ${status})`, {
          fix: `set ${this.options.apiKeyEnv ?? "the candidate's apiKeyEnv variable"} to a valid key`,
          cause: error,
        });
      }
      throw new ProviderError(
        "EVAL_CANDIDATE_REQUEST_FAILED",
        `model ${this.options.model} at ${this.options.baseURL ?? "OpenAI"} failed after ${attempt} attempt(s): ${status ? `HTTP ${status} ` : ""}${(error as Error).message}`,
        { fix: isRetryableStatus(status) ? "the endpoint kept failing; check it is up, then rerun (finished examples are cached)" : "check the model id and request parameters", details: { status, attempts: attempt }, cause: error },
      );
    }
  }
}
