import type { Command } from "commander";
import { splitDataset, commitVersion, readVersion } from "../../data/index.js";
import { UsageError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";

interface SplitFlags { seed: string; ratios: string; valCount?: string; testCount?: string; stratify?: string; group?: string; field: string; resolve: boolean; threshold: string }

function parseRatios(value: string): { train: number; val: number; test: number } {
  const parts = value.split(",").map((p) => Number(p.trim()));
  if (parts.length !== 3 || parts.some((p) => !Number.isFinite(p) || p < 0)) {
    throw new UsageError("DATA_FLAG_INVALID", `--ratios ${JSON.stringify(value)} is not three non-negative numbers train,val,test`, { fix: "pass --ratios 0.8,0.1,0.1" });
  }
  return { train: parts[0], val: parts[1], test: parts[2] };
}

export function registerSplit(data: Command, ctx: CliContext): void {
  data.command("split <dataset>")
    .description("assign train/val/test (metadata.split): seeded, stratified, group-aware, by ratio or count; the leakage check runs automatically and drops cross-split duplicates from the lower-priority split")
    .option("--seed <seed>", "PRNG seed (sfc32); same seed, same split", "42")
    .option("--ratios <train,val,test>", "fractions per split", "0.8,0.1,0.1")
    .option("--val-count <n>", "exact number of val records (with --test-count; train gets the rest)")
    .option("--test-count <n>", "exact number of test records")
    .option("--stratify <field>", "metadata field whose proportions every split keeps")
    .option("--group <field>", "metadata field whose records stay together (customer, conversation)")
    .option("--field <field>", "metadata field to write the split to", "split")
    .option("--no-resolve", "report leakage but drop nothing")
    .option("--threshold <j>", "leakage check: Jaccard similarity for near duplicates", "0.8")
    .action((ref: string, flags: SplitFlags) => ctx.run(async (out) => {
      const counts = flags.valCount !== undefined || flags.testCount !== undefined
        ? { val: parseIntegerFlag(flags.valCount, "--val-count") ?? 0, test: parseIntegerFlag(flags.testCount, "--test-count") ?? 0 }
        : undefined;
      const options = {
        seed: /^-?\d+$/.test(flags.seed) ? Number(flags.seed) : flags.seed,
        ratios: parseRatios(flags.ratios), counts, stratifyBy: flags.stratify, groupBy: flags.group, field: flags.field,
        leakage: { resolve: flags.resolve, threshold: Number(flags.threshold) },
      };
      const { version, report } = await ctx.withWorkspace(async (ws) => {
        const parent = await ws.registry.resolveDatasetVersion(ref);
        const run = await splitDataset(() => readVersion(ws, parent), options);
        const version = await commitVersion(ws, { dataset: parent.datasetName, parent, transform: "split", params: run.plan.options, records: run.records(), report: () => ({ ...run.report }) });
        return { version, report: run.report };
      });
      out.data({ version, report });
      const c = report.counts;
      out.text(`split ${c.train + c.val + c.test} records of ${ref} (${report.prng}, seed ${report.seed}): train ${c.train}, val ${c.val}, test ${c.test} → ${version.datasetName}@${version.number}`);
      if (report.groups) out.text(`  ${report.groups.count} groups kept whole (largest ${report.groups.largest}; ${report.groups.missingKey} records without a group key were split individually)`);
      // strataCount, not the keys of report.strata: the report lists only the largest strata.
      if (report.strata) out.text(`  stratified by ${options.stratifyBy}: ${report.strataCount} strata${report.strataMissing ? ` (${report.strataMissing} records without ${options.stratifyBy} form the "(none)" stratum)` : ""}`);
      const l = report.leakage!;
      out.text(`leakage check: ${l.leakedClusters} duplicate clusters spanned splits${Object.keys(l.pairs).length ? ` (${Object.entries(l.pairs).map(([k, v]) => `${k} ${v}`).join(", ")})` : ""}`);
      if (l.resolved && Object.keys(l.dropped).length > 0) out.text(`  dropped ${Object.entries(l.dropped).map(([k, v]) => `${v} from ${k}`).join(", ")}; final: train ${report.final!.train}, val ${report.final!.val}, test ${report.final!.test}`);
    }));
}
