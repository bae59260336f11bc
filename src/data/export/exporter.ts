import { join } from "node:path";
import { DataError } from "../../errors/index.js";
import { createJsonlWriter, type JsonlWriter } from "../jsonl-writer.js";
import type { DatasetRecord } from "../record.js";
import { SPLITS, splitMembership, type SplitName } from "../split-membership.js";
import type { ValidationIssue } from "../validate/issue.js";
import type { TargetName, TargetOptions } from "../validate/target.js";
import { Validator } from "../validate/validator.js";
import { toTargetLine } from "./to-target.js";

/**
 * Export: one JSONL file per split (membership by src/data/split-membership.ts: aliases such as "validation"
 * land in the val file, records without a label in the train file, an unknown label in a file of its own and
 * never in train), holding only records that pass the target's validation. Records that do
 * not pass are counted by problem code and sampled; dataset-level rules (e.g. OpenAI's minimum of 10 examples)
 * are checked per split and a failing training split aborts the export with nothing written.
 */
export interface ExportOptions extends TargetOptions {
  target: TargetName;
  outDir: string;
  /** File name prefix, usually the dataset name. */
  prefix: string;
  samples?: number;
}

export interface ExportedFile { split: string; path: string; records: number }
export interface ExportReport {
  target: TargetName;
  files: ExportedFile[];
  exported: number;
  skipped: number;
  skippedByCode: Record<string, number>;
  skippedSamples: ValidationIssue[];
  datasetIssues: (ValidationIssue & { split: string })[];
  rules: { title: string; sources: readonly string[]; checkedOn: string };
}

export async function exportRecords(records: AsyncIterable<DatasetRecord>, options: ExportOptions): Promise<ExportReport> {
  const validator = new Validator({ ...options, target: options.target });
  const rules = validator.rulesSource;
  const writers = new Map<string, JsonlWriter>();
  const report: ExportReport = { target: options.target, files: [], exported: 0, skipped: 0, skippedByCode: {}, skippedSamples: [], datasetIssues: [],
    rules: { title: rules.title, sources: rules.sources, checkedOn: rules.checkedOn } };
  const maxSamples = options.samples ?? 20;
  let committed = false;
  try {
    let line = 0;
    for await (const record of records) {
      line += 1;
      const value = record as unknown as Record<string, unknown>;
      const issues = validator.check(value, line);
      if (issues.hasErrors) {
        report.skipped += 1;
        for (const issue of issues.items) {
          if (issue.severity !== "error") continue;
          report.skippedByCode[issue.code] = (report.skippedByCode[issue.code] ?? 0) + 1;
          if (report.skippedSamples.length < maxSamples) report.skippedSamples.push(issue);
        }
        continue;
      }
      const split = splitOf(record);
      let writer = writers.get(split);
      if (!writer) {
        writer = await createJsonlWriter(join(options.outDir, `${options.prefix}-${options.target}-${split}.jsonl`), { canonical: false });
        writers.set(split, writer);
      }
      await writer.write(toTargetLine(value, options.target));
      report.exported += 1;
    }
    for (const [split, writer] of writers) {
      for (const issue of validator.datasetChecks(writer.count)) {
        // Minimums and maximums are training-set rules; for other splits they are advice.
        const severity = split === "train" ? issue.severity : "warning";
        report.datasetIssues.push({ ...issue, severity, split, message: `${split} split: ${issue.message}` });
      }
    }
    const blocking = report.datasetIssues.filter((i) => i.severity === "error");
    if (writers.size === 0 || blocking.length > 0) {
      throw new DataError("DATA_EXPORT_INVALID",
        writers.size === 0 ? `no record passes ${options.target} validation; nothing was exported` : blocking.map((i) => i.message).join("; "),
        { fix: blocking[0]?.fix ?? "run `tunekit data validate NAME --target " + options.target + "` to see every problem", details: { report } });
    }
    for (const [split, writer] of [...writers.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
      await writer.close();
      report.files.push({ split, path: writer.path, records: writer.count });
    }
    committed = true;
    return report;
  } finally {
    if (!committed) for (const writer of writers.values()) await writer.abort();
  }
}

/** The file a record goes to: its split, or its unknown label made safe for a file name (never "train"). */
function splitOf(record: DatasetRecord): string {
  const membership = splitMembership(record.metadata);
  if (membership.split) return membership.split;
  const safe = membership.label.replace(/[^A-Za-z0-9_-]/g, "_").slice(0, 32);
  return SPLITS.includes(safe as SplitName) ? `${safe}_` : safe;
}
