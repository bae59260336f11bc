import { join } from "node:path";
import type { Command } from "commander";
import { splitOf, readVersion, resolveVersion, type DatasetRecord } from "../../data/index.js";
import { UsageError } from "../../errors/index.js";
import { compileShards, loadChatTemplate, loadTokenizer, parseTemplateVariables, type ShardSplit } from "../../tokenize/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";
import { parseTrainOn } from "./preview.js";
import { tokenizerFolder } from "../hub-download.js";

interface CompileFlags {
  model: string;
  seqLen: string;
  packing: boolean;
  out?: string;
  truncation: string;
  template?: string;
  trainOn: string;
  var: string[];
  force?: boolean;
}

/** metadata.split → shard split, by the one membership rule (src/data/split-membership.ts). */
const shardSplitOf = (record: DatasetRecord): ShardSplit | null => splitOf(record.metadata);

const collect = (value: string, previous: string[]) => [...previous, value];

/** `tunekit data compile NAME --model DIR --seq-len N`: packed, masked training shards for the worker. */
export function registerCompile(data: Command, ctx: CliContext): void {
  data
    .command("compile <name>")
    .description("tokenize, mask and pack a dataset version into training shards (docs/shard-format.md)")
    .requiredOption("--model <dir|org/name[@rev]>", "Hugging Face model folder with tokenizer.json (and tokenizer_config.json), or a Hub name (tokenizer files only are downloaded)")
    .requiredOption("--seq-len <n>", "tokens per training sequence")
    .option("--no-packing", "one example per sequence, padded (default: pack several, attention kept apart)")
    .option("--out <dir>", "output folder (default: .tunekit/shards/NAME-vN-SEQLEN-TOKENIZER)")
    .option("--truncation <policy>", "examples longer than --seq-len: truncate (default) or drop", "truncate")
    .option("--template <name|file>", "chat template: chatml or a Jinja file (default: the model's own, else chatml)")
    .option("--train-on <which>", "assistant (default) or all", "assistant")
    .option("--var <key=value>", "chat-template variable, repeatable (e.g. enable_thinking=false)", collect, [])
    .option("--force", "replace an existing output folder")
    .action((name: string, flags: CompileFlags) =>
      ctx.run(async (out) => {
        const seqLen = parseIntegerFlag(flags.seqLen, "--seq-len", { min: 2 });
        const trainOn = parseTrainOn(flags.trainOn);
        if (flags.truncation !== "truncate" && flags.truncation !== "drop") {
          throw new UsageError("TOKENIZE_FLAG_INVALID", `--truncation must be truncate or drop, got ${JSON.stringify(flags.truncation)}`, { fix: "Pass --truncation truncate or --truncation drop." });
        }
        const variables = parseTemplateVariables(flags.var);
        const tokenizer = loadTokenizer(await tokenizerFolder(flags.model, out));
        const template = loadChatTemplate(tokenizer, { template: flags.template });
        await ctx.withWorkspace(async (ws) => {
          const version = await resolveVersion(ws, name);
          let unknownSplit = 0;
          // Each split streams the version once more, filtered: memory stays flat whatever the dataset size.
          const splitRecords = async function* (split: ShardSplit): AsyncGenerator<DatasetRecord> {
            for await (const record of readVersion(ws, version)) {
              const of = shardSplitOf(record);
              if (of === null && split === "train") unknownSplit++;
              if (of === split) yield record;
            }
          };
          const outDir = flags.out ?? join(ws.stateDir, "shards", `${version.datasetName}-v${version.number}-${seqLen}-${tokenizer.sha256.slice(0, 8)}`);
          const progress = out.progress({ total: version.recordCount, label: "compile" });
          let base = 0;
          let lastSplit: ShardSplit = "train";
          let lastDocuments = 0;
          const result = await compileShards({
            splits: { train: splitRecords("train"), val: splitRecords("val"), test: splitRecords("test") },
            tokenizer,
            template,
            seqLen,
            packing: flags.packing,
            truncation: flags.truncation as "truncate" | "drop",
            trainOn,
            variables,
            datasetVersion: version.id,
            overwrite: Boolean(flags.force),
            outDir,
            onProgress: (e) => {
              if (e.split !== lastSplit) {
                base += lastDocuments;
                lastSplit = e.split;
              }
              lastDocuments = e.documents;
              progress.tick(Math.min(version.recordCount, base + e.documents), { split: e.split, tokens: e.tokens });
            },
          });
          progress.done();
          out.data({ ...result, unknownSplitRecords: unknownSplit });
          const c = out.colors;
          out.text(`${c.bold("compiled")} ${version.datasetName}@${version.number} → ${result.dir}`);
          out.table(
            Object.entries(result.header.splits).map(([split, s]) => ({ split, ...s })),
            [
              { key: "split", header: "SPLIT" },
              { key: "sequences", header: "SEQUENCES", align: "right" },
              { key: "documents", header: "DOCUMENTS", align: "right" },
              { key: "tokens", header: "TOKENS", align: "right" },
              { key: "trained_tokens", header: "TRAINED", align: "right" },
              { key: "truncated_documents", header: "TRUNCATED", align: "right" },
              { key: "untrained_documents", header: "NO TARGETS", align: "right" },
            ],
          );
          const t = result.header.truncation;
          out.text(`truncation (${t.policy}): ${t.examples} example(s), ${t.tokens} token(s) cut${t.ids.length ? ` — ${t.ids.slice(0, 10).join(", ")}${t.ids.length > 10 ? ", …" : ""}` : ""}`);
          out.text(`${Math.round(result.tokensPerSecond).toLocaleString("en-US")} tokens/s, ${result.seconds.toFixed(1)} s`);
          for (const [code, n] of Object.entries(result.warnings)) out.note(c.yellow(`warning [${code}] in ${n} example(s); run \`tunekit data preview ${name} --model ${flags.model}\` to see them`));
          if (unknownSplit > 0) out.note(c.yellow(`${unknownSplit} record(s) have an unknown metadata.split and were left out`));
        });
      }),
    );
}
