/**
 * A candidate is one thing under evaluation: a model behind an endpoint or a local model folder, with a
 * prompt strategy. `complete` answers one chat request; failures throw (the runner records them per example).
 */
export interface ChatMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface CompletionRequest {
  messages: ChatMessage[];
  maxTokens: number;
  temperature: number;
  seed?: number;
  /** Constrained decoding: the answer must be exactly one of these strings (classification labels). */
  allowed?: string[];
}

/**
 * Why generation ended: "stop" (the model finished, or a stop string / end-of-turn token), "length" (it hit
 * maxTokens: the answer is truncated), another provider-reported reason (e.g. "content_filter"), or null when
 * unknown (an answer cached before finish reasons were recorded).
 */
export type FinishReason = "stop" | "length" | (string & {}) | null;

export interface Completion {
  text: string;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
  finishReason: FinishReason;
  /** True when served from the request cache (no call was made). */
  cached: boolean;
  attempts: number;
}

export interface CandidateBackend {
  /** Stable description recorded with the eval run (never includes secrets). */
  describe(): Record<string, unknown>;
  complete(request: CompletionRequest, signal?: AbortSignal): Promise<Completion>;
  close?(): Promise<void>;
}
