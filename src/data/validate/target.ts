import type { IssueList, ValidationIssue } from "./issue.js";
import type { ShapeKind } from "./structure.js";
import type { ChatRecord } from "../record.js";

export const TARGETS = ["openai", "openai-dpo", "bedrock", "bedrock-nova", "bedrock-llama", "together", "hf"] as const;
export type TargetName = (typeof TARGETS)[number];

/** Renders a chat record with a model's chat template; throws when the template cannot render it. */
export type ChatTemplateRenderer = (record: ChatRecord) => string;

export interface TargetOptions {
  /** Provider model id (OpenAI token limits) or HF model (chat template). */
  model?: string;
  /** HF target: the model's chat template (src/tokenize provides one). Required for --target hf chat records. */
  renderChat?: ChatTemplateRenderer;
  /** HF target: optional context limit in tokens with a counter for rendered text. */
  maxTokens?: number;
  countTokens?: (text: string) => number;
}

export interface RuleSource {
  target: TargetName | "canonical";
  title: string;
  sources: readonly string[];
  checkedOn: string;
}

/** A target's checks: per record (after the structural checks passed) and once for the whole dataset. */
export interface TargetChecker {
  readonly rules: RuleSource;
  checkRecord(value: Record<string, unknown>, shape: ShapeKind, issues: IssueList): void;
  checkDataset(validRecords: number): ValidationIssue[];
}

export function kindError(issues: IssueList, target: string, shape: ShapeKind, allowed: readonly string[]): void {
  issues.error("", "DATA_WRONG_RECORD_KIND", `${target} needs ${allowed.join(" or ")} records; this is a ${shape} record`,
    `validate against a target that accepts ${shape} records (hf accepts text), or convert the record`);
}

export function datasetIssue(code: string, severity: "error" | "warning", message: string, fix: string): ValidationIssue {
  return { path: "", code, severity, message, fix };
}
