import type { JsonlEntry, LineProblem } from "../jsonl.js";
import { IssueList, type Severity, type ValidationIssue } from "./issue.js";
import { checkStructure } from "./structure.js";
import type { RuleSource, TargetChecker, TargetName, TargetOptions } from "./target.js";
import { openAiChecker, openAiDpoChecker } from "./check-openai.js";
import { bedrockChecker } from "./check-bedrock.js";
import { bedrockLlamaChecker, bedrockNovaChecker } from "./check-bedrock-conversation.js";
import { togetherChecker } from "./check-together.js";
import { hfChecker } from "./check-hf.js";

/**
 * Validates every record of a stream: structural checks of the canonical record, then the target's rules,
 * then dataset-level rules (example counts). Issues stream to `onIssue`; the summary keeps counts per code and
 * the first `maxIssues` issues, so memory stays flat on any dataset size.
 */
export interface ValidateOptions extends TargetOptions {
  target?: TargetName;
  maxIssues?: number;
  onIssue?: (issue: ValidationIssue) => void;
}

export interface IssueKindSummary {
  code: string;
  severity: Severity;
  count: number;
  /** The first occurrence, as an example. */
  example: ValidationIssue;
}

export interface ValidationSummary {
  target: TargetName | "canonical";
  rules: RuleSource;
  records: number;
  valid: number;
  invalid: number;
  errors: number;
  warnings: number;
  byKind: IssueKindSummary[];
  issues: ValidationIssue[];
  issuesOmitted: number;
  ok: boolean;
}

const CANONICAL: RuleSource = {
  target: "canonical",
  title: "tunekit canonical record (src/data/record.ts)",
  sources: ["src/data/record.ts"],
  checkedOn: "2026-11-28",
};

export function createTargetChecker(target: TargetName, options: TargetOptions = {}): TargetChecker {
  switch (target) {
    case "openai": return openAiChecker(options);
    case "openai-dpo": return openAiDpoChecker();
    case "bedrock": return bedrockChecker();
    case "bedrock-nova": return bedrockNovaChecker(options);
    case "bedrock-llama": return bedrockLlamaChecker(options);
    case "together": return togetherChecker();
    case "hf": return hfChecker(options);
  }
}

export class Validator {
  private readonly checker?: TargetChecker;
  private readonly maxIssues: number;
  private readonly kinds = new Map<string, IssueKindSummary>();
  private readonly summary: ValidationSummary;

  constructor(private readonly options: ValidateOptions = {}) {
    this.checker = options.target ? createTargetChecker(options.target, options) : undefined;
    this.maxIssues = options.maxIssues ?? 1000;
    this.summary = {
      target: options.target ?? "canonical", rules: this.checker?.rules ?? CANONICAL,
      records: 0, valid: 0, invalid: 0, errors: 0, warnings: 0, byKind: [], issues: [], issuesOmitted: 0, ok: true,
    };
  }

  get rulesSource(): RuleSource {
    return this.summary.rules;
  }

  /** The target's dataset-level rules for a given count of valid records (not recorded in the summary). */
  datasetChecks(validRecords: number): ValidationIssue[] {
    return this.checker?.checkDataset(validRecords) ?? [];
  }

  /** Checks one record without recording it in the summary (export uses this to filter). */
  check(value: Record<string, unknown>, line?: number): IssueList {
    const issues = new IssueList(line);
    const shape = checkStructure(value, issues);
    if (shape !== undefined && !issues.hasErrors && this.checker) this.checker.checkRecord(value, shape, issues);
    return issues;
  }

  /** Checks one record and counts it. Returns whether it is valid (warnings allowed). */
  add(value: Record<string, unknown>, line?: number): boolean {
    const issues = this.check(value, line);
    this.summary.records += 1;
    const ok = !issues.hasErrors;
    if (ok) this.summary.valid += 1;
    else this.summary.invalid += 1;
    for (const issue of issues.items) this.record(issue);
    return ok;
  }

  /** A line that could not be read at all (invalid UTF-8, bad JSON, …) counts as an invalid record. */
  addProblem(problem: LineProblem): void {
    this.summary.records += 1;
    this.summary.invalid += 1;
    this.record({ line: problem.line, path: "", code: problem.code, severity: "error", message: problem.message, fix: problem.fix });
  }

  finish(): ValidationSummary {
    if (this.checker) for (const issue of this.checker.checkDataset(this.summary.valid)) this.record(issue);
    this.summary.byKind = [...this.kinds.values()].sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
    this.summary.ok = this.summary.errors === 0;
    return this.summary;
  }

  private record(issue: ValidationIssue): void {
    if (issue.severity === "error") this.summary.errors += 1;
    else this.summary.warnings += 1;
    const kind = this.kinds.get(issue.code);
    if (kind) kind.count += 1;
    else this.kinds.set(issue.code, { code: issue.code, severity: issue.severity, count: 1, example: issue });
    if (this.summary.issues.length < this.maxIssues) this.summary.issues.push(issue);
    else this.summary.issuesOmitted += 1;
    this.options.onIssue?.(issue);
  }
}

export async function validateEntries(entries: AsyncIterable<JsonlEntry>, options: ValidateOptions = {}): Promise<ValidationSummary> {
  const validator = new Validator(options);
  for await (const entry of entries) {
    if (entry.problem) validator.addProblem(entry.problem);
    else validator.add(entry.value, entry.line);
  }
  return validator.finish();
}

/** Validates records of a dataset version; line numbers are lines of the version's canonical JSONL. */
export async function validateRecords(records: AsyncIterable<object>, options: ValidateOptions = {}): Promise<ValidationSummary> {
  const validator = new Validator(options);
  let line = 0;
  for await (const record of records) validator.add(record as Record<string, unknown>, (line += 1));
  return validator.finish();
}
