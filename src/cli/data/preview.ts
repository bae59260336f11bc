import type { Command } from "commander";
import { readVersion, type DatasetRecord } from "../../data/index.js";
import { UsageError } from "../../errors/index.js";
import { loadChatTemplate, loadTokenizer, parseTemplateVariables, previewExamples, renderPreview } from "../../tokenize/index.js";
import type { CliContext } from "../context.js";
import { parseIntegerFlag } from "../parse-flags.js";
import { tokenizerFolder } from "../hub-download.js";

interface PreviewFlags {
  model: string;
  n: string;
  seqLen?: string;
  template?: string;
  trainOn: string;
  var: string[];
}

export function parseTrainOn(value: string): "assistant" | "all" {
  if (value !== "assistant" && value !== "all") {
    throw new UsageError("TOKENIZE_FLAG_INVALID", `--train-on must be assistant or all, got ${JSON.stringify(value)}`, { fix: "Pass --train-on assistant (default) or --train-on all." });
  }
  return value;
}

const collect = (value: string, previous: string[]) => [...previous, value];

/** `tunekit data preview NAME --model DIR`: what will be trained, before any compute is spent. */
export function registerPreview(data: Command, ctx: CliContext): void {
  data
    .command("preview <name>")
    .description("show rendered examples with the trained tokens highlighted, token counts and masking warnings")
    .requiredOption("--model <dir|org/name[@rev]>", "Hugging Face model folder with tokenizer.json (and tokenizer_config.json), or a Hub name (tokenizer files only are downloaded)")
    .option("-n <count>", "how many examples", "3")
    .option("--seq-len <n>", "sequence length: tokens beyond it are shown as cut")
    .option("--template <name|file>", "chat template: chatml or a Jinja file (default: the model's own, else chatml)")
    .option("--train-on <which>", "assistant (default) or all", "assistant")
    .option("--var <key=value>", "chat-template variable, repeatable (e.g. enable_thinking=false)", collect, [])
    .action((name: string, flags: PreviewFlags) =>
      ctx.run(async (out) => {
        const count = parseIntegerFlag(flags.n, "-n", { min: 1 });
        const seqLen = parseIntegerFlag(flags.seqLen, "--seq-len", { min: 2 });
        const trainOn = parseTrainOn(flags.trainOn);
        const variables = parseTemplateVariables(flags.var);
        const tokenizer = loadTokenizer(await tokenizerFolder(flags.model, out));
        const template = loadChatTemplate(tokenizer, { template: flags.template });
        const records: DatasetRecord[] = [];
        await ctx.withWorkspace(async (ws) => {
          for await (const record of readVersion(ws, name)) {
            records.push(record);
            if (records.length >= count) break;
          }
        });
        const examples = await previewExamples(records, tokenizer, template, { count, seqLen, trainOn, variables });
        out.data({ dataset: name, model: tokenizer.modelDir, template: template.name, examples });
        out.text(renderPreview(examples, { color: out.color, label: `${tokenizer.name}, template ${template.name}` }));
      }),
    );
}
