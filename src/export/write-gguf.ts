import { createHash } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, open, rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { ConflictError } from "../errors/index.js";
import { fsyncDirSync } from "../registry/index.js";
import { loadChatTemplate, loadTokenizer, type Tokenizer } from "../tokenize/index.js";
import { GGUF_ALIGNMENT, GgmlType, encodeGgufHeader, layoutTensors, type GgufMetadata, type GgufTensorInfo } from "./gguf-encoding.js";
import { planModel, planTensors, permuteRows, type GgufQuant, type HfConfig, type TensorPlan } from "./gguf-model.js";
import { tokenizerMetadata } from "./gguf-tokenizer.js";
import { buildModelfile } from "./modelfile.js";
import { encodeF16, encodeF32, encodeQ8_0 } from "./quantize.js";
import { RowReader, listSafetensors } from "./safetensors-source.js";

export interface ExportGgufOptions {
  /** A Hugging Face folder of the (merged) model: config.json, safetensors, tokenizer.json. */
  modelDir: string;
  /** The new folder for model.gguf and Modelfile (must not exist). */
  outDir: string;
  quant?: GgufQuant;
  /** general.name (default: the folder's name). */
  name?: string;
  /**
   * The chat template to carry (the one the fine-tune was trained with). Default: the model's own; null: none.
   */
  chatTemplate?: string | null;
}

export interface ExportedGguf {
  ggufPath: string;
  modelfilePath: string;
  quant: GgufQuant;
  architecture: string;
  bytes: number;
  sha256: string;
  tensors: number;
  /** Matrices written f16 under q8_0 because their rows do not split into blocks of 32. */
  f16Fallbacks: string[];
  chatTemplate: "carried" | "none";
  modelfileTemplate: "go" | "gguf" | "none";
}

/** Elements read and converted at once: bounds memory to a few MiB per tensor slice. */
const CHUNK_ELEMENTS = 1 << 20;

/**
 * Writes `outDir/model.gguf` (llama.cpp GGUF v3) and `outDir/Modelfile` (Ollama) from a model folder, streaming
 * each tensor a slice of rows at a time. Both files are staged in a sibling temp folder, fsynced, then the
 * folder is renamed into place: a failure leaves nothing at `outDir`.
 */
export async function exportGguf(options: ExportGgufOptions): Promise<ExportedGguf> {
  const quant = options.quant ?? "f16";
  if (existsSync(options.outDir)) {
    throw new ConflictError("EXPORT_OUT_EXISTS", `${options.outDir} already exists`, { fix: "pass a new --out folder; export never overwrites" });
  }
  const config = JSON.parse(readFileSync(join(options.modelDir, "config.json"), "utf8")) as HfConfig;
  const name = options.name ?? basename(options.modelDir);
  const plan = planModel(config, name, quant);
  const tokenizer = loadTokenizer(options.modelDir);
  const template = options.chatTemplate !== undefined ? options.chatTemplate : ownTemplate(tokenizer);
  const metadata: GgufMetadata = [
    ...plan.metadata,
    ["general.alignment", { type: "u32", value: GGUF_ALIGNMENT }],
    ...(await tokenizerMetadata(tokenizer, config.vocab_size, template)),
  ];
  const tensors = planTensors(listSafetensors(options.modelDir), config, plan, quant);
  const infos = layoutTensors(tensors);
  const header = encodeGgufHeader(metadata, infos);

  const staging = `${options.outDir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(staging, { recursive: true });
  const reader = new RowReader();
  try {
    const ggufPath = join(staging, "model.gguf");
    const sha = createHash("sha256");
    const file = await open(ggufPath, "w");
    let bytes = 0;
    const write = async (chunk: Buffer) => {
      await file.write(chunk);
      sha.update(chunk);
      bytes += chunk.length;
    };
    try {
      await write(header);
      for (let i = 0; i < tensors.length; i++) await writeTensor(tensors[i], infos[i], reader, plan.headDim, write);
      await file.sync();
    } finally {
      await file.close();
    }
    const modelfile = buildModelfile({ ggufFile: "model.gguf", tokenizer, chatTemplate: template });
    const modelfileHandle = await open(join(staging, "Modelfile"), "w");
    try {
      await modelfileHandle.writeFile(modelfile.text);
      await modelfileHandle.sync();
    } finally {
      await modelfileHandle.close();
    }
    fsyncDirSync(staging);
    await rename(staging, options.outDir);
    return {
      ggufPath: join(options.outDir, "model.gguf"),
      modelfilePath: join(options.outDir, "Modelfile"),
      quant,
      architecture: plan.architecture,
      bytes,
      sha256: sha.digest("hex"),
      tensors: tensors.length,
      f16Fallbacks: quant === "q8_0" ? tensors.filter((t) => t.dims.length >= 2 && t.type === GgmlType.F16).map((t) => t.name) : [],
      chatTemplate: template === null ? "none" : "carried",
      modelfileTemplate: modelfile.template,
    };
  } catch (error) {
    await rm(staging, { recursive: true, force: true });
    throw error;
  } finally {
    await reader.close();
  }
}

/** The model's own Jinja chat template, or null when it has none (a base model such as stories260k). */
function ownTemplate(tokenizer: Tokenizer): string | null {
  const t = loadChatTemplate(tokenizer, {});
  return t.name === "model" ? t.source : null;
}

async function writeTensor(t: TensorPlan, info: GgufTensorInfo, reader: RowReader, headDim: number, write: (b: Buffer) => Promise<void>): Promise<void> {
  const rows = t.source.shape[0];
  const rowElems = t.source.shape.slice(1).reduce((a, b) => a * b, 1);
  // Slices hold whole heads when rows are permuted (the permutation stays inside a head).
  const unit = t.permuteHeads !== null ? headDim : 1;
  const perSlice = Math.max(unit, Math.floor(CHUNK_ELEMENTS / rowElems / unit) * unit);
  for (let first = 0; first < rows; first += perSlice) {
    const count = Math.min(perSlice, rows - first);
    let values = await reader.rows(t.source, first, count);
    if (t.permuteHeads !== null) values = permuteRows(values, headDim, rowElems);
    await write(t.type === GgmlType.F32 ? Buffer.from(encodeF32(values)) : t.type === GgmlType.F16 ? encodeF16(values) : encodeQ8_0(values));
  }
  const pad = (GGUF_ALIGNMENT - (info.bytes % GGUF_ALIGNMENT)) % GGUF_ALIGNMENT;
  if (pad > 0) await write(Buffer.alloc(pad));
}

