import type { Command } from "commander";
import { Cleaner, commitVersion, readVersion } from "../../data/index.js";
import { UsageError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";

interface CleanFlags { nfc: boolean; controlChars: boolean; whitespace: boolean; emptyTurns: boolean; finalAssistant: string; stripHtml?: boolean; minChars: string; maxChars?: string }

export function registerClean(data: Command, ctx: CliContext): void {
  data.command("clean <dataset>")
    .description("normalise text (NFC, control characters, whitespace, optional HTML), drop empty turns and unfinished conversations; writes a new version with a report")
    .option("--no-nfc", "keep Unicode as is")
    .option("--no-control-chars", "keep control characters")
    .option("--no-whitespace", "keep whitespace as is")
    .option("--no-empty-turns", "keep empty turns")
    .option("--final-assistant <mode>", "conversations not ending with an assistant turn: trim|drop|keep", "trim")
    .option("--strip-html", "remove HTML tags and decode entities")
    .option("--min-chars <n>", "drop records with fewer content characters", "1")
    .option("--max-chars <n>", "drop records with more content characters")
    .action((ref: string, flags: CleanFlags) => ctx.run(async (out) => {
      if (!["trim", "drop", "keep"].includes(flags.finalAssistant)) {
        throw new UsageError("DATA_FLAG_INVALID", `--final-assistant ${flags.finalAssistant} is not one of trim|drop|keep`, { fix: "pass --final-assistant trim" });
      }
      const options = {
        nfc: flags.nfc, controlChars: flags.controlChars, whitespace: flags.whitespace, emptyTurns: flags.emptyTurns,
        finalAssistant: flags.finalAssistant as "trim", stripHtml: Boolean(flags.stripHtml),
        minChars: parseIntegerFlag(flags.minChars, "--min-chars"), maxChars: parseIntegerFlag(flags.maxChars, "--max-chars", { min: 1 }),
      };
      const cleaner = new Cleaner(options);
      const version = await ctx.withWorkspace(async (ws) => {
        const parent = await ws.registry.resolveDatasetVersion(ref);
        return commitVersion(ws, { dataset: parent.datasetName, parent, transform: "clean", params: cleaner.options, records: cleaner.clean(readVersion(ws, parent), { owned: true }),
          report: () => ({ ...cleaner.report }) });
      });
      const r = cleaner.report;
      out.data({ version, report: r });
      out.text(`cleaned ${r.recordsIn} records → ${r.recordsOut} in ${version.datasetName}@${version.number} (${r.changedRecords} changed)`);
      for (const [kind, c] of Object.entries(r.changes)) {
        out.text(`  ${kind}: ${c.count}`);
        for (const s of c.samples.slice(0, 2)) out.text(`    record ${s.record} ${s.path}: ${JSON.stringify(s.before)} → ${JSON.stringify(s.after)}`);
      }
      for (const [reason, d] of Object.entries(r.dropped)) {
        out.text(`  dropped (${reason}): ${d.count}`);
        for (const s of d.samples.slice(0, 2)) out.text(`    record ${s.record}: ${s.preview}`);
      }
    }));
}
