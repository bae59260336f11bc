import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { TunekitConfig } from "../config/index.js";
import { UsageError, isTunekitError } from "../errors/index.js";
import { generateText } from "../train/generate-text.js";
import { withWorker } from "../train/worker-session.js";
import type { CliContext } from "./context.js";
import { resolveModelFolder } from "./hub-download.js";
import { parsePositiveInt } from "./runs.js";

export function register(program: Command, ctx: CliContext): void {
  program
    .command("generate")
    .description("a quick look at a model: generate a continuation of a prompt (optionally with a LoRA adapter)")
    .requiredOption("--model <dir|org/name[@rev]>", "base model folder, a Hugging Face Hub name (downloaded into the HF cache), or a registered model name (see `tunekit model list`)")
    .option("--adapter <dir>", "LoRA adapter folder (PEFT format)")
    .requiredOption("--prompt <text>", "the prompt text (tokenized with the model's tokenizer, BOS added where it adds one)")
    .option("--max-new-tokens <n>", "most tokens to generate", "64")
    .option("--temperature <t>", "0 = greedy", "0")
    .option("--top-p <p>", "nucleus sampling mass (with temperature > 0)", "1")
    .option("--seed <n>", "sampling seed")
    .option("--stop <text>", "stop when this text is generated (repeatable)", (v: string, prev: string[]) => [...prev, v], [] as string[])
    .option("--device <device>", "auto, cpu, cuda or cuda:N", "auto")
    .action((opts: GenerateFlags) =>
      ctx.run(async (out) => {
        const temperature = parseNumber(opts.temperature, "--temperature", 0, 100);
        const topP = parseNumber(opts.topP, "--top-p", 0, 1);
        const maxNewTokens = parsePositiveInt(opts.maxNewTokens, "--max-new-tokens");
        const seed = opts.seed === undefined ? undefined : parsePositiveInt(opts.seed, "--seed", true);
        const { modelDir, adapterDir, config } = await resolveModel(ctx, opts.model, opts.adapter);
        const result = await withWorker(config, (worker) =>
          generateText(worker, { modelDir, adapterDir, prompt: opts.prompt, maxNewTokens, temperature, topP, seed, stop: opts.stop, device: opts.device }),
        );
        out.data({ model: modelDir, adapter: adapterDir ?? null, ...result });
        out.text(`${opts.prompt}${result.text}`);
        out.note(`(${result.completionTokens} tokens, ${result.finishReason}, ${(result.completionTokens / Math.max(result.seconds, 1e-9)).toFixed(1)} tokens/s)`);
      }),
    );
}

interface GenerateFlags {
  model: string;
  adapter?: string;
  prompt: string;
  maxNewTokens: string;
  temperature: string;
  topP: string;
  seed?: string;
  stop: string[];
  device: string;
}

function isDir(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}

/**
 * A folder is used as is; a name without a slash is looked up in the workspace registry (adapter models resolve
 * to base + adapter); `org/name[@rev]` is a Hugging Face Hub model, downloaded into the HF cache.
 */
export async function resolveModel(ctx: CliContext, model: string, adapter?: string): Promise<{ modelDir: string; adapterDir?: string; config: TunekitConfig | null }> {
  let config: TunekitConfig | null = null;
  try {
    const ws = await ctx.openWorkspace();
    config = ws.config;
    try {
      if (!isDir(model) && !/[\\/]/.test(model)) {
        const m = await ws.registry.getModel(model);
        const meta = m.meta as { adapter?: boolean; baseModelDir?: string } | null;
        if (meta?.adapter && meta.baseModelDir && m.path) return { modelDir: meta.baseModelDir, adapterDir: adapter ? resolve(adapter) : m.path, config };
        if (m.path) return { modelDir: m.path, adapterDir: adapter ? resolve(adapter) : undefined, config };
      }
    } finally {
      await ws.close();
    }
  } catch (e) {
    // Without a workspace only folders work; any other failure matters when the name is not a folder.
    const noWorkspace = isTunekitError(e) && e.code === "WORKSPACE_NOT_FOUND";
    if (!noWorkspace && !isDir(model)) throw e;
  }
  // org/name[@rev] that is not a folder here is a Hub model; paths (./x, /x, ~/x) never are.
  const hubName = !isDir(model) && model.includes("/") && !/^[./~\\]/.test(model);
  if (!isDir(model) && !hubName) {
    throw new UsageError("CLI_MODEL_NOT_FOUND", `--model ${model} is neither a folder nor a registered model`, { fix: "pass a Hugging Face model folder, a Hub name (org/name[@revision]) or a name from `tunekit model list`" });
  }
  if (adapter !== undefined && !isDir(adapter)) {
    throw new UsageError("CLI_ADAPTER_NOT_FOUND", `--adapter ${adapter} is not a folder`, { fix: "pass a PEFT adapter folder (adapter_config.json + adapter_model.safetensors)" });
  }
  const modelDir = hubName ? (await resolveModelFolder(model, ctx.output())).dir : resolve(model);
  return { modelDir, adapterDir: adapter === undefined ? undefined : resolve(adapter), config };
}

export function parseNumber(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError("CLI_BAD_OPTION", `${flag} "${value}" is not a number between ${min} and ${max}`, { fix: `pass e.g. ${flag} ${min}` });
  }
  return n;
}
