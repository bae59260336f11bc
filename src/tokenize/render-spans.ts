import type { ChatRecord } from "../data/index.js";
import { DataError } from "../errors/index.js";
import { toTemplateMessages, type ChatTemplate, type TemplateMessage } from "./chat-template.js";

/** A trained character span of the rendered text, [start, end) in UTF-16 code units. */
export interface TrainedSpan {
  start: number;
  end: number;
  /** Index of the assistant message in record.messages. */
  message: number;
  /** How the start was found: the generation-prompt prefix, or the per-turn fallback (see renderConversation). */
  via: "prefix" | "per_turn";
  /** Whether an end-of-turn marker closes the span. */
  closed: boolean;
}

export interface RenderWarning {
  code: "prefix_mismatch" | "tool_calls_dropped" | "no_end_of_turn" | "zero_trained_turn" | "doubled_bos" | "truncated_assistant" | "boundary_straddle";
  message: string;
  turn?: number;
}

export interface RenderedConversation {
  text: string;
  spans: TrainedSpan[];
  warnings: RenderWarning[];
}

export interface RenderConversationOptions {
  template: ChatTemplate;
  /** Strings that end an assistant turn (eos and end-of-turn tokens); the first after the turn start closes it. */
  endOfTurn: readonly string[];
  variables?: Readonly<Record<string, unknown>>;
}

/** Stands in for an assistant message's content to find where the template puts content (per-turn fallback). */
const CONTENT_SENTINEL = "\u2063tunekit-content-sentinel\u2063";

function findEndOfTurn(text: string, from: number, markers: readonly string[]): { index: number; length: number } | null {
  let best: { index: number; length: number } | null = null;
  for (const marker of markers) {
    if (marker.length === 0) continue;
    const index = text.indexOf(marker, from);
    if (index >= 0 && (best === null || index < best.index)) best = { index, length: marker.length };
  }
  return best;
}

/**
 * Renders a chat record once and finds each trained assistant span from renderings, never by guessing.
 *
 * For assistant message k: P = render(messages[0..k), add_generation_prompt=true). If the full rendering starts
 * with P, the turn starts at |P| (exactly what the model sees at inference) and ends after the first end-of-turn
 * marker that follows, inclusive. A template that rewrites earlier turns (Qwen3 with enable_thinking=false gives
 * an empty think block in the generation prompt but strips it from older turns) breaks that; then the per-turn
 * fallback uses R = render(messages[0..k), add_generation_prompt=false), which must be a prefix, and starts the
 * turn after the part of the generation prompt the full rendering agrees with (the role header), with a warning.
 * When neither holds the record cannot be masked safely and TOKENIZE_MASK_UNRESOLVED is thrown.
 */
export function renderConversation(record: ChatRecord, options: RenderConversationOptions): RenderedConversation {
  const messages = toTemplateMessages(record.messages);
  const render = (list: TemplateMessage[], addGenerationPrompt: boolean) =>
    options.template.render(list, { tools: record.tools, addGenerationPrompt, variables: options.variables });
  const text = render(messages, false);
  const spans: TrainedSpan[] = [];
  const warnings: RenderWarning[] = [];
  for (let k = 0; k < messages.length; k++) {
    const message = record.messages[k];
    if (message.role !== "assistant" || message.weight === 0) continue;
    const prefix = messages.slice(0, k);
    let start: number | null = null;
    let via: TrainedSpan["via"] = "prefix";
    let prompt: string | null = null;
    try {
      prompt = render(prefix, true);
    } catch {
      prompt = null; // e.g. a template that indexes messages[0] on an empty prefix; the fallback decides.
    }
    if (prompt !== null && text.startsWith(prompt)) {
      start = prompt.length;
    } else {
      const before = k === 0 ? "" : render(prefix, false);
      if (!text.startsWith(before)) {
        throw new DataError(
          "TOKENIZE_MASK_UNRESOLVED",
          `cannot locate assistant message ${k}: the rendering of the conversation before it is not a prefix of the full rendering`,
          {
            fix: "The template rewrites earlier turns depending on later ones; train on all tokens (--train-on all) or use a template that renders turns independently (--template chatml).",
            details: { message: k, prefix: before.slice(-80) },
          },
        );
      }
      // Per-turn rendering: the same conversation with this turn's content replaced by a sentinel shows the
      // scaffolding the template puts before the content of *this* turn as the full rendering shows it.
      const probe = messages.map((m, i) => (i === k ? { ...m, content: CONTENT_SENTINEL } : m));
      const probed = render(probe, false);
      const at = probed.indexOf(CONTENT_SENTINEL, before.length);
      const header = at >= 0 && probed.startsWith(before) ? probed.slice(before.length, at) : null;
      if (header === null || !text.startsWith(header, before.length)) {
        throw new DataError("TOKENIZE_MASK_UNRESOLVED", `cannot locate the start of assistant message ${k}: the template renders it differently in context and per turn`, {
          fix: "Train on all tokens (--train-on all) or use a template that renders turns independently (--template chatml).",
          details: { message: k, generationPrompt: prompt },
        });
      }
      start = before.length + header.length;
      via = "per_turn";
      warnings.push({
        code: "prefix_mismatch",
        turn: k,
        message: `assistant message ${k}: the full rendering does not start with the generation prompt ${JSON.stringify(prompt)} (the template rewrites earlier turns); masked from per-turn rendering instead`,
      });
    }
    const eot = findEndOfTurn(text, start, options.endOfTurn);
    const nextStart = k + 1 < messages.length ? render(messages.slice(0, k + 1), false).length : text.length;
    let end: number;
    let closed: boolean;
    if (eot !== null && eot.index + eot.length <= Math.max(nextStart, start)) {
      end = eot.index + eot.length;
      closed = true;
    } else {
      // No marker inside this turn: train to the end of the turn's rendering, trailing whitespace excluded.
      end = start + text.slice(start, nextStart).trimEnd().length;
      closed = false;
      warnings.push({
        code: "no_end_of_turn",
        turn: k,
        message: `assistant message ${k}: the template emits no end-of-turn/EOS marker (${options.endOfTurn.join(", ") || "none known"}); the model will not learn to stop`,
      });
    }
    const dropped = (message.tool_calls ?? []).filter((call) => !text.slice(start, end).includes(call.function.name));
    if (dropped.length > 0) {
      warnings.push({
        code: "tool_calls_dropped",
        turn: k,
        message: `assistant message ${k}: the template does not render its tool call(s) ${dropped.map((c) => c.function.name).join(", ")}; the model would learn to skip them`,
      });
    }
    spans.push({ start, end: Math.max(end, start), message: k, via, closed });
  }
  return { text, spans, warnings };
}
