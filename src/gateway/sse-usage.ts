/**
 * Reads an OpenAI chat-completions SSE stream beside the pass-through: the assistant text, finish reason and
 * usage (sent by upstreams when `stream_options.include_usage` is set; otherwise completion tokens are counted
 * as content chunks, which is what OpenAI-compatible servers emit per token).
 */
export class SseUsageParser {
  private buffer = "";
  private text = "";
  private chunks = 0;
  private promptTokens: number | null = null;
  private completionTokens: number | null = null;
  private finishReason: string | null = null;

  push(chunk: Buffer | string): void {
    this.buffer += typeof chunk === "string" ? chunk : chunk.toString("utf8");
    let nl: number;
    while ((nl = this.buffer.indexOf("\n")) >= 0) {
      const line = this.buffer.slice(0, nl).trim();
      this.buffer = this.buffer.slice(nl + 1);
      if (!line.startsWith("data:")) continue;
      const data = line.slice(5).trim();
      if (data === "[DONE]" || data === "") continue;
      try {
        const event = JSON.parse(data) as {
          choices?: { delta?: { content?: string | null }; finish_reason?: string | null }[];
          usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
        };
        const choice = event.choices?.[0];
        if (choice?.delta?.content) {
          this.text += choice.delta.content;
          this.chunks += 1;
        }
        if (choice?.finish_reason) this.finishReason = choice.finish_reason;
        if (event.usage) {
          this.promptTokens = event.usage.prompt_tokens ?? this.promptTokens;
          this.completionTokens = event.usage.completion_tokens ?? this.completionTokens;
        }
      } catch {
        // not JSON: passed through untouched, nothing to record
      }
    }
  }

  result(): { text: string; promptTokens: number | null; completionTokens: number | null; finishReason: string | null } {
    return { text: this.text, promptTokens: this.promptTokens, completionTokens: this.completionTokens ?? this.chunks, finishReason: this.finishReason };
  }
}
