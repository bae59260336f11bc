import { existsSync, statSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { isAbsolute, resolve } from "node:path";
import type { Command } from "commander";
import { readJsonlFile, collectStats, renderStatsHtml, renderStatsText, OPENAI_RULES, readVersion, type DatasetRecord, type BatchCountTokens, type CountTokens } from "../../data/index.js";
import { DataError, NotFoundError, TunekitError, UsageError } from "../../errors/index.js";
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

const MODEL_FIX = "pass --model a Hugging Face model folder holding tokenizer.json (the base model you will fine-tune, e.g. --model ./models/base), an OpenAI model name (--model gpt-4o-mini), or --encoding o200k_base";

/** `--model` names a folder when one exists there or the value is written as a path (`./m`, `/m`, `models/m`). */
function isModelFolder(model: string): boolean {
  if (existsSync(model)) return statSync(model).isDirectory();
  return isAbsolute(model) || model.startsWith(".") || /[\\/]/.test(model);
}

interface TokenCounting { countTokens?: CountTokens | BatchCountTokens; tokenizer: string; contextLimit?: number }

/** The counter `--model`/`--encoding` ask for: a model folder's tokenizer.json, or an OpenAI encoding. */
async function tokenCounting(flags: StatsFlags): Promise<TokenCounting> {
  if (flags.model && !flags.encoding && isModelFolder(flags.model)) {
    const { loadTokenizer } = await import("../../tokenize/index.js");
    let tokenizer;
    try {
      tokenizer = loadTokenizer(flags.model);
    } catch (error) {
      if (error instanceof TunekitError && error.code === "TOKENIZE_TOKENIZER_MISSING") {
        throw new NotFoundError(error.code, `--model ${flags.model}: the folder has no tokenizer.json, so its tokens cannot be counted`, { fix: MODEL_FIX });
      }
      throw error;
    }
    // tokenizer_config.json's model_max_length is the model's context; transformers writes 1e30 when unknown.
    const maxLength = tokenizer.config.model_max_length;
    return {
      countTokens: { countBatch: async (texts) => (await tokenizer.encodeBatch(texts)).map((ids) => ids.length) },
      tokenizer: `${tokenizer.name} (tokenizer.json)`,
      contextLimit: typeof maxLength === "number" && Number.isInteger(maxLength) && maxLength > 0 && maxLength < 1e7 ? maxLength : undefined,
    };
  }
  if (!flags.model && !flags.encoding) return { tokenizer: "estimate" };
  const { countTokensDetailed } = await import("../../tokenize/index.js");
  const opts = flags.model ? { model: flags.model } : { encoding: flags.encoding as "o200k_base" };
  let probe;
  try {
    probe = countTokensDetailed("probe", opts);
  } catch (error) {
    if (error instanceof TunekitError && error.code === "TOKENIZE_UNKNOWN_MODEL") {
      throw new UsageError(error.code, `--model ${flags.model} is neither a model folder nor a model with a known tokenizer`, { fix: MODEL_FIX });
    }
    throw error;
  }
  return {
    countTokens: (text) => countTokensDetailed(text, opts).tokens,
    tokenizer: probe.estimate ? `${probe.encoding} (estimate)` : probe.encoding,
    contextLimit: modelContextLimit(flags.model),
  };
}

export function registerStats(data: Command, ctx: CliContext): void {
  data.command("stats <dataset>")
    .description("counts, turns, token lengths per role, over-length examples, label balance, language mix, duplicate and PII rates, diversity, and warnings with guidance; --html writes a self-contained report")
    .option("--model <model>", "count tokens with a Hugging Face model folder's tokenizer.json (DIR) or an OpenAI model's encoding (e.g. gpt-4o-mini)")
    .option("--encoding <encoding>", "count tokens with an encoding (o200k_base|cl100k_base)")
    .option("--context-limit <n>", "tokens per example the target accepts (default: the --model's fine-tuning limit or a folder's model_max_length, else 16385)")
    .option("--label <field>", "metadata field with the label (default: label, intent or category)")
    .option("--html <file>", "write an HTML report with charts")
    .option("--no-duplicates", "skip the duplicate rate")
    .option("--no-pii", "skip the PII rate")
    .action((ref: string, flags: StatsFlags) => ctx.run(async (out) => {
      const { countTokens, tokenizer, contextLimit } = await tokenCounting(flags);
      const options = { contextLimit: parseIntegerFlag(flags.contextLimit, "--context-limit", { min: 1 }) ?? contextLimit, labelField: flags.label, tokenizer, duplicates: flags.duplicates, pii: flags.pii };
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
