import { resolve } from "node:path";
import type { Command } from "commander";
import { exportRecords, readVersion, TARGETS, type TargetName } from "../../data/index.js";
import { UsageError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { hfRenderer } from "./record-source.js";

interface ExportFlags { target: string; out: string; model?: string; template?: string }

export function registerExport(data: Command, ctx: CliContext): void {
  data.command("export <dataset>")
    .description("write provider-ready JSONL, one file per split, holding only records that pass the target's validation")
    .requiredOption("--target <target>", TARGETS.join("|"))
    .option("--out <dir>", "output folder", "exports")
    .option("--model <model>", "openai: model id for token limits; bedrock-nova|bedrock-llama: base model id for its limits; hf: model folder for the chat template")
    .option("--template <template>", "hf: chat template name or file")
    .action((ref: string, flags: ExportFlags) => ctx.run(async (out) => {
      const target = flags.target as TargetName;
      if (!TARGETS.includes(target)) throw new UsageError("DATA_FLAG_INVALID", `--target ${target} is not one of ${TARGETS.join("|")}`, { fix: "pass --target openai, for example" });
      const renderChat = target === "hf" ? await hfRenderer(flags.model, flags.template) : undefined;
      const { version, report } = await ctx.withWorkspace(async (ws) => {
        const version = await ws.registry.resolveDatasetVersion(ref);
        const report = await exportRecords(readVersion(ws, version), {
          target, outDir: resolve(flags.out), prefix: `${version.datasetName}-v${version.number}`, model: target === "hf" ? undefined : flags.model, renderChat,
        });
        return { version, report };
      });
      out.data({ version: { id: version.id, ref: `${version.datasetName}@${version.number}` }, report });
      out.text(`exported ${report.exported} of ${version.recordCount} records of ${version.datasetName}@${version.number} for ${target} (${report.rules.title}, rules checked ${report.rules.checkedOn})`);
      for (const f of report.files) out.text(`  ${f.split}: ${f.records} → ${f.path}`);
      if (report.skipped > 0) out.text(`skipped ${report.skipped} records that fail ${target} validation: ${Object.entries(report.skippedByCode).map(([c, n]) => `${c} ×${n}`).join(", ")}`);
      for (const i of report.datasetIssues) out.text(`  [${i.severity}] ${i.message}`);
    }));
}
