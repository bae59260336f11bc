import type { Command } from "commander";
import { renderComparison, runQuickstart, type QuickstartReporter } from "../quickstart/index.js";
import { CPU_HOURLY_USD } from "../quickstart/index.js";
import type { CliContext } from "./context.js";
import { prefetchHubModel } from "./hub-download.js";
import type { Output } from "./output.js";
import { parseIntegerFlag } from "./parse-flags.js";

interface QuickstartFlags {
  dir: string;
  model?: string;
  data?: string;
  gpu?: boolean;
  fast?: boolean;
  yes?: boolean;
  seed: string;
}

export function register(program: Command, ctx: CliContext): void {
  program
    .command("quickstart")
    .description("the whole lifecycle in one command on the bundled sample: data → stats/cost → baselines → LoRA → comparison report → model card")
    .option("--dir <dir>", "workspace folder to create", "tunekit-quickstart")
    .option("--model <dir|org/name[@rev]>", "base model folder (Hugging Face layout) or Hub name, downloaded into the HF cache (default: the bundled demo base model)")
    .option("--data <csv>", "a CSV with request, reply and intent columns instead of the bundled sample")
    .option("--gpu", "train and generate on CUDA")
    .option("--fast", "fewer test examples and training steps (a quick check, e.g. in CI)")
    .option("--yes", "do not ask anything (the quickstart spends nothing: it runs locally)")
    .option("--seed <n>", "split and training seed", "7")
    .action((flags: QuickstartFlags) =>
      ctx.run(async (out) => {
        await prefetchHubModel(flags.model, process.cwd(), out);
        const result = await runQuickstart(
          { dir: flags.dir, model: flags.model, data: flags.data, gpu: Boolean(flags.gpu), fast: Boolean(flags.fast), seed: parseIntegerFlag(flags.seed, "--seed") },
          outputReporter(out),
          { color: out.color },
        );
        const { summary: _summary, ...data } = result;
        out.data(data);
        out.text("");
        out.text(out.colors.bold(`What was measured (held-out test split, ${result.summary.examples} requests never seen in training):`));
        out.text(renderComparison(result.comparison));
        out.text(`intent accuracy: the reply takes the right next step; chrF: closeness to the agent's reply (0–100). Cost: local CPU time at $${CPU_HOURLY_USD}/h.`);
        out.text("");
        out.text(`finished in ${result.seconds.toFixed(0)} s. Open:`);
        out.text(`  ${result.report.html}`);
        out.text(`  ${result.modelCard.markdown}`);
        out.text(`  tunekit ui --workspace ${result.workspace}   (runs, datasets and models in the browser)`);
      }),
    );
}

/** Headings and lines on stdout, bars on stderr (live on a terminal, periodic lines when piped). */
function outputReporter(out: Output): QuickstartReporter {
  let n = 0;
  return {
    step: (title) => out.text(`\n${out.colors.bold(`[${++n}] ${title}`)}`),
    line: (text) => out.text(text),
    progress: (options) => out.progress(options),
  };
}
