import { writeFile } from "node:fs/promises";
import { resolve } from "node:path";
import type { Command } from "commander";
import { readJsonlFile } from "../../data/jsonl.js";
import type { DatasetRecord } from "../../data/record.js";
import { collectStats, renderStatsHtml, renderStatsText, type CountTokens } from "../../data/stats/index.js";
import { OPENAI_RULES } from "../../data/validate/rules/openai.js";
import { readVersion } from "../../data/versions.js";
import { DataError } from "../../errors/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";
import { isFileArgument } from "./record-source.js";

interface StatsFlags { model?: string; encoding?: string; contextLimit?: string; label?: string; html?: string; duplicates: boolean; pii: boolean }

async function* fileRecords(path: string): AsyncGenerator<DatasetRecord> {
  for await (const entry of readJsonlFile(path)) {
    if (entry.problem) {
      throw new DataError("DATA_STATS_BAD_LINE", `${path} line ${entry.line}: ${entry.problem.message}`, { fix: `run \`tunekit data validate ${path}\` to see every problem, or import the file first` });
    }
    yield entry.value as unknown as DatasetRecord;
  }
}

/** The per-example fine-tuning limit of an OpenAI model ("gpt-4o-mini" matches gpt-4o-mini-2024-07-18). */
function modelContextLimit(model: string | undefined): number | undefined {
  if (!model) return undefined;
  const limits = OPENAI_RULES.exampleTokenLimits;
  const key = Object.keys(limits).find((k) => k === model || k.startsWith(`${model}-`));
  return key === undefined ? undefined : limits[key];
}

export function registerStats(data: Command, ctx: CliContext): void {
  data.command("stats <dataset>")
    .description("counts, turns, token lengths per role, over-length examples, label balance, language mix, duplicate and PII rates, diversity, and warnings with guidance; --html writes a self-contained report")
    .option("--model <model>", "count tokens with this model's tokenizer (e.g. gpt-4o-mini)")
    .option("--encoding <encoding>", "count tokens with an encoding (o200k_base|cl100k_base)")
    .option("--context-limit <n>", "tokens per example the target accepts (default: the --model's fine-tuning limit, else 16385)")
    .option("--label <field>", "metadata field with the label (default: label, intent or category)")
    .option("--html <file>", "write an HTML report with charts")
    .option("--no-duplicates", "skip the duplicate rate")
    .option("--no-pii", "skip the PII rate")
    .action((ref: string, flags: StatsFlags) => ctx.run(async (out) => {
      let countTokens: CountTokens | undefined;
      let tokenizer = "estimate";
      if (flags.model || flags.encoding) {
        const { countTokensDetailed } = await import("../../tokenize/index.js");
        const opts = flags.model ? { model: flags.model } : { encoding: flags.encoding as "o200k_base" };
        const probe = countTokensDetailed("probe", opts);
        tokenizer = probe.estimate ? `${probe.encoding} (estimate)` : probe.encoding;
        countTokens = (text) => countTokensDetailed(text, opts).tokens;
      }
      const options = { contextLimit: parseIntegerFlag(flags.contextLimit, "--context-limit", { min: 1 }) ?? modelContextLimit(flags.model), labelField: flags.label, tokenizer, duplicates: flags.duplicates, pii: flags.pii };
      const title = ref;
      const stats = isFileArgument(ref)
        ? await collectStats(fileRecords(ref), options, countTokens)
        : await ctx.withWorkspace(async (ws) => collectStats(readVersion(ws, await ws.registry.resolveDatasetVersion(ref)), options, countTokens));
      let htmlPath: string | undefined;
      if (flags.html) {
        htmlPath = resolve(flags.html);
        await writeFile(htmlPath, renderStatsHtml(stats, `Dataset stats: ${title}`));
      }
      const { exampleTokens: _omit, ...summary } = stats;
      void _omit;
      out.data({ stats: summary, html: htmlPath ?? null });
      for (const line of renderStatsText(stats, title)) out.text(line);
      if (htmlPath) out.text(`HTML report: ${htmlPath}`);
    }));
}
