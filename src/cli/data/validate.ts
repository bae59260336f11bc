import type { Command } from "commander";
import { DataError, exitCodeFor, UsageError } from "../../errors/index.js";
import { formatIssue, TARGETS, validateEntries, type TargetName } from "../../data/index.js";
import type { CliContext } from "../context.js";
import { fileEntries, hfRenderer, isFileArgument, versionEntries } from "./record-source.js";
import { parseIntegerFlag } from "../parse-flags.js";

interface ValidateFlags { target?: string; model?: string; template?: string; maxIssues: string; maxLineBytes?: string }

export function registerValidate(data: Command, ctx: CliContext): void {
  data.command("validate <source>")
    .description("check every record of a dataset (NAME, NAME@N) or a JSONL file against the canonical format or a provider's rules")
    .option("--target <target>", `${TARGETS.join("|")}`)
    .option("--model <model>", "openai: model id for token limits; bedrock-nova|bedrock-llama: base model id for its limits; hf: model folder whose chat template must render each record")
    .option("--template <template>", "hf: chat template name or file instead of the model's")
    .option("--max-issues <n>", "print at most n issues (all are counted)", "50")
    .option("--max-line-bytes <n>", "files: longest accepted line", String(16 * 1024 * 1024))
    .action((source: string, flags: ValidateFlags) => ctx.run(async (out) => {
      const target = flags.target as TargetName | undefined;
      if (target !== undefined && !TARGETS.includes(target)) {
        throw new UsageError("DATA_FLAG_INVALID", `--target ${target} is not one of ${TARGETS.join("|")}`, { fix: "pass --target openai, for example" });
      }
      const maxIssues = parseIntegerFlag(flags.maxIssues, "--max-issues")!;
      const renderChat = target === "hf" ? await hfRenderer(flags.model, flags.template) : undefined;
      const options = { target, model: target === "hf" ? undefined : flags.model, renderChat, maxIssues };
      const summary = isFileArgument(source)
        ? await validateEntries(fileEntries(source, parseIntegerFlag(flags.maxLineBytes, "--max-line-bytes", { min: 1 })), options)
        : await ctx.withWorkspace(async (ws) => validateEntries(versionEntries(ws, await ws.registry.resolveDatasetVersion(source)), options));
      out.data(summary);
      for (const issue of summary.issues) out.text(formatIssue(issue));
      if (summary.issuesOmitted > 0) out.text(`… ${summary.issuesOmitted} more issues (raise --max-issues or use --json)`);
      out.text(`\n${summary.records} records: ${summary.valid} valid, ${summary.invalid} invalid; ${summary.errors} errors, ${summary.warnings} warnings (rules: ${summary.rules.title}, checked ${summary.rules.checkedOn})`);
      if (summary.byKind.length > 0) {
        out.table(summary.byKind, [
          { key: "code", header: "PROBLEM" },
          { key: "severity", header: "SEVERITY" },
          { key: "count", header: "COUNT", align: "right" },
          { key: "example", header: "FIRST", value: (k) => formatIssue(k.example, false).slice(0, 100) },
        ]);
      }
      if (!summary.ok) process.exitCode = exitCodeFor(new DataError("DATA_VALIDATION_FAILED", "validation found errors"));
    }));
}
