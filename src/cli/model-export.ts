import type { Command } from "commander";
import { existsSync, readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import { ConflictError, UsageError, isTunekitError } from "../errors/index.js";
import { exportGguf, type GgufQuant } from "../export/index.js";
import type { Model } from "../registry/index.js";
import { withWorker } from "../runtime/index.js";
import { NAMED_TEMPLATES, loadChatTemplate, loadTokenizer } from "../tokenize/index.js";
import type { CliContext } from "./context.js";
import { resolveModel } from "./generate.js";

interface ExportFlags {
  format: string;
  quant: string;
  out?: string;
}

/**
 * `tunekit model export RUN|MODEL|DIR --format gguf`: merges a LoRA adapter into its base (the worker's merge),
 * writes model.gguf + Modelfile atomically and registers the copy with its lineage (same run, dataset version
 * and base as the model it came from; meta.exportedFrom names that model).
 */
export function registerExport(model: Command, ctx: CliContext): void {
  model
    .command("export <model>")
    .description("export a fine-tuned model (a run id, a registered model name or a model folder) for llama.cpp / Ollama: GGUF + Modelfile")
    .requiredOption("--format <format>", "gguf")
    .option("--quant <quant>", "f16 or q8_0", "f16")
    .option("--out <dir>", "the new folder for model.gguf and Modelfile (default: exports/<model>-<quant> in the workspace)")
    .action((ref: string, opts: ExportFlags) =>
      ctx.run(async (out) => {
        if (opts.format !== "gguf") throw new UsageError("CLI_BAD_OPTION", `--format ${opts.format} is not supported`, { fix: "pass --format gguf" });
        if (opts.quant !== "f16" && opts.quant !== "q8_0") throw new UsageError("CLI_BAD_OPTION", `--quant ${opts.quant} is not supported`, { fix: "pass --quant f16 or --quant q8_0" });
        const quant: GgufQuant = opts.quant;
        const { registered, root } = await findRegistered(ctx, ref);
        const resolved = await resolveModel(ctx, registered?.name ?? ref);
        const name = registered?.name ?? basename(resolved.adapterDir ?? resolved.modelDir);
        const target = resolve(opts.out ?? join(root ?? process.cwd(), "exports", `${name}-${quant}`));
        if (existsSync(target)) throw new ConflictError("EXPORT_OUT_EXISTS", `${target} already exists`, { fix: "pass a new --out folder; export never overwrites" });
        let modelDir = resolved.modelDir;
        const merged = `${target}.merge-${process.pid}`;
        try {
          if (resolved.adapterDir) {
            await withWorker(resolved.config, (worker) => worker.call("merge", { model_dir: resolved.modelDir, adapter_dir: resolved.adapterDir, output_dir: merged }));
            modelDir = merged;
          }
          const exported = await exportGguf({ modelDir, outDir: target, quant, name, chatTemplate: trainedTemplate(modelDir, resolved.promptFormat) });
          const copy = registered ? await registerCopy(ctx, registered, exported) : null;
          out.data({ source: registered?.id ?? resolved.modelDir, adapter: resolved.adapterDir ?? null, model: copy, ...exported });
          out.text(`exported ${name} (${exported.architecture}, ${quant}, ${exported.tensors} tensors, ${(exported.bytes / 2 ** 20).toFixed(1)} MiB) → ${exported.ggufPath}`);
          out.text(`  ${exported.modelfilePath}  (ollama create ${name} -f ${exported.modelfilePath})`);
          if (exported.f16Fallbacks.length > 0) out.note(`(${exported.f16Fallbacks.length} matrices stay f16: their rows do not split into q8_0 blocks of 32)`);
          if (copy) out.note(`(registered as ${copy.name})`);
        } finally {
          await rm(merged, { recursive: true, force: true });
        }
      }),
    );
}

/** A run id resolves to the model it registered; a name to itself; a folder to nothing (no lineage to record). */
async function findRegistered(ctx: CliContext, ref: string): Promise<{ registered: Model | null; root: string | null }> {
  try {
    return await ctx.withWorkspace(async (ws) => {
      const models = await ws.registry.listModels();
      const registered = models.find((m) => m.runId === ref && m.provider === "local") ?? models.find((m) => m.name === ref || m.id === ref) ?? null;
      if (!registered && /^run_/.test(ref)) throw new UsageError("CLI_MODEL_NOT_FOUND", `run ${ref} registered no model`, { fix: "export a finished training run (see `tunekit model list`)" });
      return { registered, root: ws.root };
    });
  } catch (e) {
    if (isTunekitError(e) && e.code === "WORKSPACE_NOT_FOUND") return { registered: null, root: null };
    throw e;
  }
}

/** The template the fine-tune learned: its run's choice, else the model's own, else chatml as training falls back. */
function trainedTemplate(modelDir: string, format: { chat: boolean; template?: string } | null): string | null | undefined {
  if (format?.template !== undefined) return NAMED_TEMPLATES[format.template] ?? readFileSync(format.template, "utf8");
  if (format?.chat) return loadChatTemplate(loadTokenizer(modelDir)).source;
  return undefined;
}

async function registerCopy(ctx: CliContext, source: Model, exported: Awaited<ReturnType<typeof exportGguf>>): Promise<Model> {
  return ctx.withWorkspace(async (ws) => {
    const taken = new Set((await ws.registry.listModels()).map((m) => m.name));
    const wanted = `${source.name}-gguf-${exported.quant}`;
    let name = wanted;
    for (let i = 2; taken.has(name); i++) name = `${wanted}-${i}`;
    const modelfile = await ws.artifacts.putFile(exported.modelfilePath, { kind: "modelfile", runId: source.runId ?? undefined, meta: { gguf: exported.ggufPath } });
    return ws.registry.createModel({
      name,
      kind: source.kind,
      provider: "llama.cpp",
      path: exported.ggufPath,
      baseModelId: source.kind === "base" ? source.id : source.baseModelId,
      runId: source.runId,
      datasetVersionId: source.datasetVersionId,
      meta: { format: "gguf", quant: exported.quant, exportedFrom: source.id, sha256: exported.sha256, bytes: exported.bytes, architecture: exported.architecture, modelfileArtifact: modelfile.id },
    });
  });
}
