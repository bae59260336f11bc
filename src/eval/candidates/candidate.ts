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
}

export interface Completion {
  text: string;
  promptTokens: number | null;
  completionTokens: number | null;
  latencyMs: number;
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
