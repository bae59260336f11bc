import pc from "picocolors";
import type { PreviewExample } from "./preview.js";

export interface RenderPreviewOptions {
  /** Colour (a terminal): trained text green on a dark background. Without: trained text inside [[…]]. */
  color: boolean;
  /** Label of the tokenizer/template, shown in each example's title. */
  label?: string;
}

/** Makes control characters visible except newlines, which keep the layout of the rendered conversation. */
function visible(text: string): string {
  return text.replace(/[\u0000-\u0008\u000b-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`);
}

/** The terminal rendering of previewExamples(): one block per example, counts, then warnings. */
export function renderPreview(examples: readonly PreviewExample[], options: RenderPreviewOptions): string {
  const c = pc.createColors(options.color);
  const blocks: string[] = [];
  for (const example of examples) {
    const lines: string[] = [];
    lines.push(c.bold(`── example ${example.index + 1} (${example.kind}${options.label ? `, ${options.label}` : ""}) ──`));
    let body = "";
    let cutShown = false;
    for (const segment of example.segments) {
      if (segment.truncated && !cutShown) {
        body += options.color ? c.red("✂ cut at seq_len ✂") : "\n--- cut at seq_len: the rest is not in the training data ---\n";
        cutShown = true;
      }
      const text = visible(segment.text);
      if (segment.truncated) body += options.color ? c.strikethrough(c.dim(text)) : text;
      else if (segment.trained) body += options.color ? c.bgBlack(c.green(text)) : `[[${text}]]`;
      else body += options.color ? c.dim(text) : text;
    }
    lines.push(body);
    lines.push(
      `${c.green(`trained ${example.trainedTokens}`)} · untrained ${example.untrainedTokens} · total ${example.tokens} tokens`,
    );
    for (const warning of example.warnings) lines.push(c.yellow(`warning [${warning.code}] ${warning.message}`));
    blocks.push(lines.join("\n"));
  }
  if (!options.color) blocks.push("legend: [[text]] is trained (loss), everything else is context only");
  return blocks.join("\n\n");
}
