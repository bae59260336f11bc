import type { Command } from "commander";
import { applyDedupe, applyLeakageCheck, measureDetectorQuality, normaliseText, planDedupe, planLeakageCheck, recordText, selectQualitySample, commitVersion, readVersion, type DetectorQuality, type DatasetRecord } from "../../data/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";

interface DedupeFlags {
  threshold: string; numPerm: string; ngram: string; bands?: string; rows?: string; keep: string; near: boolean; includeSystem: boolean;
  qualitySample: string; leakage?: boolean; splitField: string; priority: string; resolve: boolean;
}

/** Non-numbers go through as NaN: the options schema then reports the option with its allowed range. */
const parseNumber = (value: string): number => Number(value);

export function registerDedupe(data: Command, ctx: CliContext): void {
  data.command("dedupe <dataset>")
    .description("remove exact (normalised) and near duplicates (MinHash + LSH over word shingles), keep one record per cluster, report clusters and the detector's precision/recall; --leakage checks duplicates across train/val/test instead")
    .option("--threshold <j>", "Jaccard similarity for near duplicates", "0.8")
    .option("--num-perm <n>", "MinHash permutations", "128")
    .option("--ngram <n>", "words per shingle", "3")
    .option("--bands <n>", "LSH bands (default: chosen for the threshold)")
    .option("--rows <n>", "LSH rows per band (default: chosen for the threshold)")
    .option("--keep <which>", "record kept per cluster: first|longest", "first")
    .option("--no-near", "exact duplicates only")
    .option("--include-system", "compare system messages too")
    .option("--quality-sample <n>", "records in the precision/recall sample (0 to skip)", "2000")
    .option("--leakage", "check near duplicates across splits (metadata.split) instead of deduplicating")
    .option("--split-field <field>", "--leakage: metadata field naming the split", "split")
    .option("--priority <list>", "--leakage: the copy in the first split listed stays", "test,val,train")
    .option("--no-resolve", "--leakage: report only, drop nothing")
    .action((ref: string, flags: DedupeFlags) => ctx.run(async (out) => {
      const detection = {
        threshold: parseNumber(flags.threshold), numPerm: parseIntegerFlag(flags.numPerm, "--num-perm", { min: 1 }), ngram: parseIntegerFlag(flags.ngram, "--ngram", { min: 1 }),
        bands: parseIntegerFlag(flags.bands, "--bands", { min: 1 }), rows: parseIntegerFlag(flags.rows, "--rows", { min: 1 }), near: flags.near, includeSystem: Boolean(flags.includeSystem),
      };
      if (flags.leakage) {
        const leakageOptions = { ...detection, splitField: flags.splitField, priority: flags.priority.split(",").map((s) => s.trim()), resolve: flags.resolve };
        const { version, report } = await ctx.withWorkspace(async (ws) => {
          const parent = await ws.registry.resolveDatasetVersion(ref);
          const plan = await planLeakageCheck(readVersion(ws, parent), leakageOptions);
          const version = await commitVersion(ws, { dataset: parent.datasetName, parent, transform: "leakage", params: plan.options, records: applyLeakageCheck(readVersion(ws, parent), plan), report: () => ({ ...plan.report }) });
          return { version, report: plan.report };
        });
        out.data({ version, report });
        out.text(`leakage check of ${report.records} records (${Object.entries(report.splits).map(([k, v]) => `${k} ${v}`).join(", ")}): ${report.leakedClusters} clusters span splits → ${version.datasetName}@${version.number}`);
        for (const [pair, n] of Object.entries(report.pairs)) out.text(`  ${pair}: ${n} clusters`);
        for (const [split, n] of Object.entries(report.dropped)) out.text(`  dropped from ${split}: ${n}`);
        for (const c of report.reported.slice(0, 5)) out.text(`  cluster ${c.cluster} (${c.splits.join("/")}, sim ${c.similarity.min}–${c.similarity.max}) kept ${c.kept}: ${c.samples[0]?.text ?? ""}`);
        return;
      }
      const options = { ...detection, keep: flags.keep as "first" };
      const sampleSize = parseIntegerFlag(flags.qualitySample, "--quality-sample") ?? 0;
      const { version, report, quality } = await ctx.withWorkspace(async (ws) => {
        const parent = await ws.registry.resolveDatasetVersion(ref);
        const plan = await planDedupe(readVersion(ws, parent), options);
        const mask = sampleSize > 0 ? selectQualitySample(plan.detection, sampleSize, plan.options.seed) : undefined;
        const texts: string[] = [];
        let quality: DetectorQuality | undefined;
        async function* sampled(): AsyncGenerator<DatasetRecord> {
          let i = 0;
          for await (const r of readVersion(ws, parent)) {
            if (mask && mask[i] === 1) texts.push(normaliseText(recordText(r, plan.options)));
            i++;
            yield r;
          }
        }
        const version = await commitVersion(ws, {
          dataset: parent.datasetName, parent, transform: "dedupe", params: plan.options, records: applyDedupe(sampled(), plan),
          report: () => {
            if (mask && plan.options.near) quality = measureDetectorQuality(texts, plan.options);
            return { ...plan.report, quality };
          },
        });
        return { version, report: plan.report, quality };
      });
      out.data({ version, report: { ...report, quality } });
      out.text(`deduplicated ${report.input} records → ${report.kept} in ${version.datasetName}@${version.number}: removed ${report.removed.exact} exact and ${report.removed.near} near duplicates in ${report.clusters.total} clusters (largest ${report.clusters.largest}; LSH ${report.lsh.bands}×${report.lsh.rows})`);
      for (const c of report.reported.slice(0, 5)) {
        out.text(`  cluster ${c.cluster} (${c.kind}, ${c.size} records, similarity ${c.similarity.min}–${c.similarity.max}), kept ${c.kept}; removed ${c.ids.slice(1, 6).join(", ")}${c.ids.length > 6 ? ", …" : ""}`);
        for (const s of c.samples.slice(0, 2)) out.text(`    ${s.id}: ${s.text}`);
      }
      if (quality) {
        out.text(`detector quality vs brute-force Jaccard on ${quality.sample} records (${quality.pairs} pairs, ${quality.truePairs} true pairs ≥ ${quality.threshold}): precision ${quality.precision.toFixed(3)}, recall ${quality.recall.toFixed(3)}`);
      }
    }));
}
