import { ConfigError } from "../../errors/index.js";
import type { ChatMessage } from "../candidates/candidate.js";
import type { EvalExample } from "../metrics/metric.js";
import { shuffleSeeded } from "../../runtime/index.js";
import type { Bm25Index, RetrievedPassage } from "./bm25-index.js";

/**
 * How a candidate is prompted. Strategies compose: a system prompt, k few-shot examples drawn from train with
 * a seed, a template for the user turn (`{{input}}`, `{{context}}`), and retrieved passages (BM25 top-k)
 * as `{{context}}` — or, with no template, appended to the system prompt.
 */
export interface PromptStrategySpec {
  system?: string;
  template?: string;
  fewShot?: { k: number; seed: number };
  retrieval?: { k: number };
}

export interface BuiltPrompt {
  messages: ChatMessage[];
  retrieved: RetrievedPassage[];
}

export interface PromptSources {
  train?: readonly EvalExample[];
  index?: Bm25Index;
}

const VARIABLE = /\{\{\s*([a-zA-Z_]+)\s*\}\}/g;
const KNOWN = new Set(["input", "context"]);

export function checkTemplate(template: string, where: string): void {
  for (const m of template.matchAll(VARIABLE)) {
    if (!KNOWN.has(m[1])) {
      throw new ConfigError("EVAL_BAD_TEMPLATE", `${where}: unknown template variable {{${m[1]}}}`, { fix: "use {{input}} and, with retrieval, {{context}}" });
    }
  }
  if (!/\{\{\s*input\s*\}\}/.test(template)) {
    throw new ConfigError("EVAL_BAD_TEMPLATE", `${where}: the template never uses {{input}}, so every example would get the same prompt`, {
      fix: 'include {{input}} where the example goes, e.g. "Classify: {{input}}"',
    });
  }
}

export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(VARIABLE, (_, name: string) => vars[name] ?? "");
}

export function strategyName(spec: PromptStrategySpec): string {
  const parts: string[] = [];
  if (spec.system) parts.push("system");
  if (spec.fewShot) parts.push(`few-shot(k=${spec.fewShot.k},seed=${spec.fewShot.seed})`);
  if (spec.template) parts.push("template");
  if (spec.retrieval) parts.push(`bm25(k=${spec.retrieval.k})`);
  return parts.length ? parts.join("+") : "zero-shot";
}

/** Few-shot examples are fixed per strategy (same seed → same shots for every test example). */
export function drawFewShot(train: readonly EvalExample[], k: number, seed: number): EvalExample[] {
  return shuffleSeeded(
    train.filter((e) => e.reference !== null),
    seed,
  ).slice(0, k);
}

export function buildPrompt(spec: PromptStrategySpec, example: EvalExample, sources: PromptSources, shots: readonly EvalExample[] = []): BuiltPrompt {
  const retrieved = spec.retrieval && sources.index ? sources.index.query(example.input, spec.retrieval.k) : [];
  const context = retrieved.map((p, i) => `[${i + 1}] ${p.text}`).join("\n\n");
  const userFor = (input: string) => (spec.template ? renderTemplate(spec.template, { input, context }) : input);
  const messages: ChatMessage[] = [];
  let system = spec.system ?? "";
  if (retrieved.length && !(spec.template && /\{\{\s*context\s*\}\}/.test(spec.template))) {
    system = `${system}${system ? "\n\n" : ""}Use these passages if they help:\n${context}`;
  }
  if (system) messages.push({ role: "system", content: system });
  for (const shot of shots) {
    messages.push({ role: "user", content: spec.template ? renderTemplate(spec.template, { input: shot.input, context: "" }) : shot.input });
    messages.push({ role: "assistant", content: shot.reference ?? "" });
  }
  messages.push({ role: "user", content: userFor(example.input) });
  return { messages, retrieved };
}
