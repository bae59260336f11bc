import type { Command } from "commander";
import { existsSync, statSync } from "node:fs";
import { resolve } from "node:path";
import type { TunekitConfig } from "../config/index.js";
import { UsageError, isTunekitError } from "../errors/index.js";
import { localModels, trainedPromptFormat, type TrainedPromptFormat } from "../runtime/index.js";
import type { CliContext } from "./context.js";
import { parseIntegerFlag } from "./parse-flags.js";
import { resolveModelFolder } from "./hub-download.js";

export function register(program: Command, ctx: CliContext): void {
  program
    .command("generate")
    .description("a quick look at a model: generate a continuation of a prompt, or answer it as a chat (optionally with a LoRA adapter)")
    .requiredOption("--model <dir|org/name[@rev]>", "base model folder, a Hugging Face Hub name (downloaded into the HF cache), or a registered model name (see `tunekit model list`)")
    .option("--adapter <dir>", "LoRA adapter folder (PEFT format)")
    .requiredOption("--prompt <text>", "the prompt text: continued as plain text (BOS added where the tokenizer adds one), or the user message with --chat")
    .option("--chat", "send the prompt as a user message through the chat template, with the generation prompt (default for a registered fine-tune trained on chat records)")
    .option("--no-chat", "continue the prompt as plain text, also for a chat fine-tune")
    .option("--system <text>", "with --chat: a system message before the prompt")
    .option("--template <name>", "with --chat: chat template, a named one (chatml) or a .jinja file (default: the one the fine-tune was trained with, else the model's own)")
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
        const maxNewTokens = parseIntegerFlag(opts.maxNewTokens, "--max-new-tokens", { min: 1 });
        const seed = parseIntegerFlag(opts.seed, "--seed");
        const { modelDir, adapterDir, config, promptFormat } = await resolveModel(ctx, opts.model, opts.adapter);
        const chat = opts.chat ?? promptFormat?.chat ?? false;
        if (!chat && (opts.system !== undefined || opts.template !== undefined)) {
          throw new UsageError("CLI_BAD_OPTION", `${opts.system !== undefined ? "--system" : "--template"} applies to chat prompts, and this one is plain text`, {
            fix: "add --chat, or leave the option out",
          });
        }
        const template = opts.template ?? promptFormat?.template;
        const sampling = { adapterDir, maxNewTokens, temperature, topP, seed, stop: opts.stop };
        const lease = localModels.acquire({ modelDir, device: opts.device, python: config?.worker.python, readyTimeoutMs: config?.worker.readyTimeoutMs });
        try {
          const messages = [...(opts.system !== undefined ? [{ role: "system" as const, content: opts.system }] : []), { role: "user" as const, content: opts.prompt }];
          const result = chat ? await lease.model.chat(messages, { ...sampling, template }) : await lease.model.complete(opts.prompt, sampling);
          out.data({ model: modelDir, adapter: adapterDir ?? null, chat, template: chat ? (template ?? null) : null, ...result });
          // A chat answer stands alone; a continuation reads on from the prompt.
          out.text(chat ? result.text : `${opts.prompt}${result.text}`);
          if (opts.chat === undefined && chat) out.note(`(chat template applied: ${promptFormat!.reason}; --no-chat continues the prompt as plain text)`);
          out.note(`(${result.completionTokens} tokens, ${result.finishReason}, ${(result.completionTokens / Math.max(result.seconds, 1e-9)).toFixed(1)} tokens/s)`);
        } finally {
          await lease.release();
        }
      }),
    );
}

interface GenerateFlags {
  model: string;
  adapter?: string;
  prompt: string;
  chat?: boolean;
  system?: string;
  template?: string;
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

export interface ResolvedModel {
  modelDir: string;
  adapterDir?: string;
  config: TunekitConfig | null;
  /** The prompt format a registered fine-tune learned; null for folders the registry does not know. */
  promptFormat: TrainedPromptFormat | null;
}

/**
 * A folder is used as is; a name without a slash is looked up in the workspace registry (adapter models resolve
 * to base + adapter); `org/name[@rev]` is a Hugging Face Hub model, downloaded into the HF cache. A registered
 * fine-tune, named or given as its adapter/model folder, brings its prompt format.
 */
export async function resolveModel(ctx: CliContext, model: string, adapter?: string): Promise<ResolvedModel> {
  let config: TunekitConfig | null = null;
  try {
    const ws = await ctx.openWorkspace();
    config = ws.config;
    // The fine-tune registered at this folder (its adapter, or a fully fine-tuned model), if any.
    const formatAt = async (folder: string): Promise<TrainedPromptFormat | null> => {
      const registered = (await ws.registry.listModels()).find((m) => m.kind === "fine_tuned" && m.path !== null && resolve(m.path) === folder);
      return registered ? trainedPromptFormat(ws, registered) : null;
    };
    try {
      if (!isDir(model) && !/[\\/]/.test(model)) {
        const m = await ws.registry.getModel(model);
        const meta = m.meta as { adapter?: boolean; baseModelDir?: string } | null;
        // An explicit --adapter replaces the registered one, and with it the prompt format that goes with it.
        const promptFormat = adapter === undefined ? await trainedPromptFormat(ws, m) : isDir(adapter) ? await formatAt(resolve(adapter)) : null;
        if (meta?.adapter && meta.baseModelDir && m.path) return { modelDir: meta.baseModelDir, adapterDir: adapter ? resolve(adapter) : m.path, config, promptFormat };
        if (m.path) return { modelDir: m.path, adapterDir: adapter ? resolve(adapter) : undefined, config, promptFormat };
      } else if (isDir(model) && (adapter === undefined || isDir(adapter))) {
        const promptFormat = await formatAt(resolve(adapter ?? model));
        return { modelDir: resolve(model), adapterDir: adapter === undefined ? undefined : resolve(adapter), config, promptFormat };
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
  return { modelDir, adapterDir: adapter === undefined ? undefined : resolve(adapter), config, promptFormat: null };
}

export function parseNumber(value: string, flag: string, min: number, max: number): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < min || n > max) {
    throw new UsageError("CLI_BAD_OPTION", `${flag} "${value}" is not a number between ${min} and ${max}`, { fix: `pass e.g. ${flag} ${min}` });
  }
  return n;
}
