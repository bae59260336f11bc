/**
 * One validation problem: where (line, JSON path), what is wrong (message, quoting the offending value) and how
 * to fix it. `code` is stable (DATA_…) and is what the summary groups by.
 */
export type Severity = "error" | "warning";

export interface ValidationIssue {
  /** 1-based source line; absent for dataset-level problems (e.g. too few examples). */
  line?: number;
  /** JSON path inside the record, e.g. `messages[3].role`; "" for the whole record. */
  path: string;
  code: string;
  severity: Severity;
  message: string;
  fix: string;
}

/** Collects the issues of one record. Cheap when there are none (the common case). */
export class IssueList {
  readonly items: ValidationIssue[] = [];
  constructor(readonly line: number | undefined) {}

  error(path: string, code: string, message: string, fix: string): void {
    this.items.push({ line: this.line, path, code, severity: "error", message, fix });
  }
  warn(path: string, code: string, message: string, fix: string): void {
    this.items.push({ line: this.line, path, code, severity: "warning", message, fix });
  }
  get hasErrors(): boolean {
    return this.items.some((i) => i.severity === "error");
  }
}

/** `line 812: messages[3].role "bot" is not one of system|user|assistant|tool (fix: …)` */
export function formatIssue(issue: ValidationIssue, withFix = true): string {
  const where = issue.line === undefined ? "dataset" : `line ${issue.line}`;
  const tag = issue.severity === "warning" ? " [warning]" : "";
  return `${where}:${tag} ${issue.message}${withFix ? ` — fix: ${issue.fix}` : ""}`;
}

/** Short rendering of an offending value for messages: strings quoted and cut, others by type. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    const cut = value.length > 40 ? `${value.slice(0, 40)}…` : value;
    return JSON.stringify(cut);
  }
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array`;
  if (typeof value === "object") return "an object";
  if (value === undefined) return "missing";
  return `${typeof value} ${String(value)}`;
}

export function typeName(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  return typeof value;
}
