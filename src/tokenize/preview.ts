import { z } from "zod";
import type { DatasetRecord } from "../data/index.js";
import { UsageError } from "../errors/index.js";
import { buildExamples, type TrainOn } from "./build-example.js";
import type { ChatTemplate } from "./chat-template.js";
import type { Tokenizer } from "./load-tokenizer.js";
import type { RenderWarning } from "./render-spans.js";

export const PreviewOptionsSchema = z.strictObject({
  count: z.number().int().min(1).default(3),
  seqLen: z.number().int().min(2).optional(),
  trainOn: z.enum(["assistant", "all"]).default("assistant"),
  variables: z.record(z.string(), z.unknown()).default({}),
});
export type PreviewOptions = z.input<typeof PreviewOptionsSchema>;

/** A run of consecutive tokens with the same trained flag, as text. */
export interface PreviewSegment {
  text: string;
  trained: boolean;
  tokens: number;
  /** Beyond seq_len: cut away by truncation. */
  truncated: boolean;
}

export interface PreviewExample {
  index: number;
  kind: "chat" | "text";
  segments: PreviewSegment[];
  tokens: number;
  trainedTokens: number;
  untrainedTokens: number;
  warnings: RenderWarning[];
}

/**
 * What would be trained, for the first `count` records: the rendered text split into trained/untrained runs
 * (from the token mask, so what is shown is exactly what compile writes, the compile-time zero on a document's
 * first token included), counts and warnings.
 */
export async function previewExamples(
  records: readonly DatasetRecord[],
  tokenizer: Tokenizer,
  template: ChatTemplate,
  options: PreviewOptions = {},
): Promise<PreviewExample[]> {
  const parsed = PreviewOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new UsageError("TOKENIZE_PREVIEW_OPTIONS_INVALID", `invalid preview options: ${parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}`, {
      fix: "Pass -n as a positive integer and --seq-len as an integer >= 2.",
    });
  }
  const { count, seqLen, variables } = parsed.data;
  const trainOn: TrainOn = parsed.data.trainOn;
  const chosen = records.slice(0, count);
  const examples = await buildExamples(chosen, { tokenizer, template, trainOn, variables });
  return examples.map((example, index) => {
    const mask = Uint8Array.from(example.mask);
    if (mask.length > 0) mask[0] = 0; // the first token of a document is never a target (shard format)
    const limit = seqLen ?? Number.POSITIVE_INFINITY;
    const segments: PreviewSegment[] = [];
    let trainedTokens = 0;
    let covered = 0;
    for (let t = 0; t < example.ids.length; t++) {
      const trained = mask[t] === 1 && t < limit;
      if (trained) trainedTokens++;
      const truncated = t >= limit;
      // Token text from offsets (gaps go to the next token); tokens without text (an added BOS, the EOS
      // appended to text records) show as their token string.
      const start = example.offsets[2 * t];
      const end = example.offsets[2 * t + 1];
      let text: string;
      if (end > start) {
        text = end > covered ? example.text.slice(covered, end) : "";
        covered = Math.max(covered, end);
      } else {
        text = tokenizer.idToToken(example.ids[t]) ?? "";
      }
      const last = segments[segments.length - 1];
      if (last && last.trained === trained && last.truncated === truncated) {
        last.text += text;
        last.tokens++;
      } else {
        segments.push({ text, trained, tokens: 1, truncated });
      }
    }
    const warnings = [...example.warnings];
    if (example.ids.length > limit) {
      let cutTrained = 0;
      for (let t = limit; t < example.ids.length; t++) cutTrained += mask[t];
      if (cutTrained > 0) {
        warnings.push({ code: "truncated_assistant", message: `${cutTrained} trained token(s) fall beyond seq_len ${limit} and are cut away` });
      }
    }
    const shown = Math.min(example.ids.length, limit);
    return { index, kind: example.kind, segments, tokens: example.ids.length, trainedTokens, untrainedTokens: shown - trainedTokens, warnings };
  });
}
