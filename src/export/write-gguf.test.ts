import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readGgufFileInfo } from "node-llama-cpp";
import { afterAll, describe, expect, it } from "vitest";
import { STORIES260K, makeTempDir } from "../test-support/paths.js";
import { exportGguf } from "./index.js";
import { fromHalfBits } from "./quantize.js";

/** A one-layer Llama of literal weights (stories260k's tokenizer: 512 tokens), written as float32 safetensors. */
const tmp = makeTempDir("tunekit-gguf-writer-");
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const SHAPES: Record<string, number[]> = {
  "model.embed_tokens.weight": [512, 32],
  "model.layers.0.input_layernorm.weight": [32],
  "model.layers.0.self_attn.q_proj.weight": [32, 32],
  "model.layers.0.self_attn.k_proj.weight": [16, 32],
  "model.layers.0.self_attn.v_proj.weight": [16, 32],
  "model.layers.0.self_attn.o_proj.weight": [32, 32],
  "model.layers.0.post_attention_layernorm.weight": [32],
  "model.layers.0.mlp.gate_proj.weight": [48, 32],
  "model.layers.0.mlp.up_proj.weight": [48, 32],
  "model.layers.0.mlp.down_proj.weight": [32, 48],
  "model.norm.weight": [32],
};

/** Element i of tensor t: exactly representable in f16 (multiples of 1/64 below 8). */
const value = (t: number, i: number) => (((i * 37 + t * 11) % 97) - 48) / 64;

function writeTinyModel(dir: string, architecture = "LlamaForCausalLM"): void {
  mkdirSync(dir, { recursive: true });
  const config = { architectures: [architecture], vocab_size: 512, hidden_size: 32, intermediate_size: 48, num_hidden_layers: 1, num_attention_heads: 2, num_key_value_heads: 1, head_dim: 16, max_position_embeddings: 128, rms_norm_eps: 1e-5, rope_theta: 10000, tie_word_embeddings: true, bos_token_id: 1, eos_token_id: 2 };
  writeFileSync(join(dir, "config.json"), JSON.stringify(config));
  for (const f of ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]) copyFileSync(join(STORIES260K, f), join(dir, f));
  const header: Record<string, unknown> = {};
  const parts: Buffer[] = [];
  let offset = 0;
  Object.entries(SHAPES).forEach(([name, shape], t) => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = Buffer.alloc(n * 4);
    for (let i = 0; i < n; i++) data.writeFloatLE(value(t, i), i * 4);
    header[name] = { dtype: "F32", shape, data_offsets: [offset, offset + data.length] };
    parts.push(data);
    offset += data.length;
  });
  let json = JSON.stringify(header);
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(join(dir, "model.safetensors"), Buffer.concat([len, Buffer.from(json), ...parts]));
}

describe("exportGguf", () => {
  const modelDir = join(tmp, "tiny");
  writeTinyModel(modelDir);

  it("writes metadata and tensor infos llama.cpp's reader reads back, q/k rows permuted, and a Modelfile", async () => {
    const out = await exportGguf({ modelDir, outDir: join(tmp, "tiny-f16"), quant: "f16", name: "tiny" });
    expect({ quant: out.quant, architecture: out.architecture, tensors: out.tensors, chatTemplate: out.chatTemplate, modelfileTemplate: out.modelfileTemplate }).toEqual({
      quant: "f16", architecture: "llama", tensors: 11, chatTemplate: "none", modelfileTemplate: "none",
    });
    const info = await readGgufFileInfo(out.ggufPath, { readTensorInfo: true });
    const md = info.metadata as any;
    expect(md.general).toMatchObject({ architecture: "llama", name: "tiny", file_type: 1, quantization_version: 2, alignment: 32 });
    expect(md.llama).toEqual({
      vocab_size: 512, context_length: 128, embedding_length: 32, block_count: 1, feed_forward_length: 48,
      attention: { head_count: 2, head_count_kv: 1, key_length: 16, value_length: 16, layer_norm_rms_epsilon: Math.fround(1e-5) },
      rope: { dimension_count: 16, freq_base: 10000 },
    });
    expect(md.tokenizer.ggml).toMatchObject({ model: "llama", bos_token_id: 1, eos_token_id: 2, unknown_token_id: 0, add_bos_token: true, add_eos_token: false, add_space_prefix: true });
    expect(md.tokenizer.ggml.tokens.slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
    expect(md.tokenizer.ggml.token_type.slice(0, 4)).toEqual([2, 3, 3, 6]);
    expect(info.tensorInfo!.map((t) => [t.name, t.dimensions.map(Number), t.ggmlType])).toEqual([
      ["token_embd.weight", [32, 512], 1],
      ["blk.0.attn_k.weight", [32, 16], 1],
      ["blk.0.attn_norm.weight", [32], 0],
      ["blk.0.attn_output.weight", [32, 32], 1],
      ["blk.0.attn_q.weight", [32, 32], 1],
      ["blk.0.attn_v.weight", [32, 16], 1],
      ["blk.0.ffn_down.weight", [48, 32], 1],
      ["blk.0.ffn_gate.weight", [32, 48], 1],
      ["blk.0.ffn_norm.weight", [32], 0],
      ["blk.0.ffn_up.weight", [32, 48], 1],
      ["output_norm.weight", [32], 0],
    ]);
    // attn_k: one kv head of 16 rows; GGUF row 2i+j is HF row j*8+i.
    const k = info.tensorInfo!.find((t) => t.name === "blk.0.attn_k.weight")!;
    const bytes = readFileSync(out.ggufPath).subarray(Number(k.fileOffset), Number(k.fileOffset) + 16 * 32 * 2);
    const row = (r: number) => Array.from({ length: 32 }, (_, c) => fromHalfBits(bytes.readUInt16LE((r * 32 + c) * 2)));
    const hfRow = (r: number) => Array.from({ length: 32 }, (_, c) => value(3, r * 32 + c));
    expect([row(0), row(1), row(2), row(15)]).toEqual([hfRow(0), hfRow(8), hfRow(1), hfRow(15)]);
    expect(readFileSync(out.modelfilePath, "utf8")).toBe('FROM ./model.gguf\nPARAMETER stop "</s>"\nPARAMETER temperature 0\n');
  });

  it("q8_0: matrices with rows of 32 become q8_0, ffn_down (rows of 48) falls back to f16, norms stay f32", async () => {
    const out = await exportGguf({ modelDir, outDir: join(tmp, "tiny-q8"), quant: "q8_0" });
    const info = await readGgufFileInfo(out.ggufPath, { readTensorInfo: true });
    expect(Object.fromEntries(info.tensorInfo!.map((t) => [t.name, t.ggmlType]))).toMatchObject({ "token_embd.weight": 8, "blk.0.attn_q.weight": 8, "blk.0.ffn_down.weight": 1, "output_norm.weight": 0 });
    expect(out.f16Fallbacks).toEqual(["blk.0.ffn_down.weight"]);
    expect((info.metadata as any).general.file_type).toBe(7);
  });

  it("refuses an architecture llama.cpp export does not cover (EXPORT_ARCHITECTURE_UNSUPPORTED), leaving nothing behind", async () => {
    const gpt2 = join(tmp, "gpt2");
    writeTinyModel(gpt2, "GPT2LMHeadModel");
    const before = readdirSync(tmp).sort();
    const err = await exportGguf({ modelDir: gpt2, outDir: join(tmp, "gpt2-out") }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "EXPORT_ARCHITECTURE_UNSUPPORTED" });
    expect((err as Error).message).toContain("GPT2LMHeadModel");
    expect(readdirSync(tmp).sort()).toEqual(before);
  });

  it("refuses to overwrite an existing folder (EXPORT_OUT_EXISTS)", async () => {
    const taken = join(tmp, "taken");
    mkdirSync(taken);
    await expect(exportGguf({ modelDir, outDir: taken })).rejects.toMatchObject({ code: "EXPORT_OUT_EXISTS" });
    expect(existsSync(join(taken, "model.gguf"))).toBe(false);
  });

  it("refuses a tensor with no GGUF place (EXPORT_TENSOR_UNEXPECTED) and removes its staging folder", async () => {
    const odd = join(tmp, "odd");
    writeTinyModel(odd);
    const st = readFileSync(join(odd, "model.safetensors"));
    const len = Number(st.readBigUInt64LE(0));
    const header = JSON.parse(st.subarray(8, 8 + len).toString());
    header["vision_tower.weight"] = header["model.norm.weight"];
    let json = JSON.stringify(header);
    json += " ".repeat((8 - (json.length % 8)) % 8);
    const l = Buffer.alloc(8);
    l.writeBigUInt64LE(BigInt(json.length));
    writeFileSync(join(odd, "model.safetensors"), Buffer.concat([l, Buffer.from(json), st.subarray(8 + len)]));
    const before = readdirSync(tmp).sort();
    await expect(exportGguf({ modelDir: odd, outDir: join(tmp, "odd-out") })).rejects.toMatchObject({ code: "EXPORT_TENSOR_UNEXPECTED" });
    expect(readdirSync(tmp).sort()).toEqual(before);
  });

  it("refuses a folder without safetensors (EXPORT_WEIGHTS_NOT_FOUND)", async () => {
    const bare = join(tmp, "bare");
    writeTinyModel(bare);
    rmSync(join(bare, "model.safetensors"));
    await expect(exportGguf({ modelDir: bare, outDir: join(tmp, "bare-out") })).rejects.toMatchObject({ code: "EXPORT_WEIGHTS_NOT_FOUND" });
  });

  it("refuses weights in a dtype it cannot convert (EXPORT_DTYPE_UNSUPPORTED)", async () => {
    const ints = join(tmp, "ints");
    writeTinyModel(ints);
    rewriteHeader(ints, (h) => ({ ...h, "model.norm.weight": { ...h["model.norm.weight"], dtype: "I32" } }));
    await expect(exportGguf({ modelDir: ints, outDir: join(tmp, "ints-out") })).rejects.toMatchObject({ code: "EXPORT_DTYPE_UNSUPPORTED" });
  });

  it("refuses a model without its embedding (EXPORT_TENSOR_MISSING)", async () => {
    const headless = join(tmp, "headless");
    writeTinyModel(headless);
    rewriteHeader(headless, (h) => Object.fromEntries(Object.entries(h).filter(([k]) => k !== "model.embed_tokens.weight")));
    await expect(exportGguf({ modelDir: headless, outDir: join(tmp, "headless-out") })).rejects.toMatchObject({ code: "EXPORT_TENSOR_MISSING" });
  });

  it("refuses a tokenizer with ids past vocab_size (EXPORT_VOCAB_MISMATCH)", async () => {
    const small = join(tmp, "small-vocab");
    writeTinyModel(small);
    const config = JSON.parse(readFileSync(join(small, "config.json"), "utf8"));
    writeFileSync(join(small, "config.json"), JSON.stringify({ ...config, vocab_size: 256 }));
    await expect(exportGguf({ modelDir: small, outDir: join(tmp, "small-out") })).rejects.toMatchObject({ code: "EXPORT_VOCAB_MISMATCH" });
  });

  it("refuses a safetensors file cut short (EXPORT_SAFETENSORS_TRUNCATED) and leaves no staging folder", async () => {
    const cut = join(tmp, "cut");
    writeTinyModel(cut);
    const st = readFileSync(join(cut, "model.safetensors"));
    writeFileSync(join(cut, "model.safetensors"), st.subarray(0, st.length - 100));
    const before = readdirSync(tmp).sort();
    await expect(exportGguf({ modelDir: cut, outDir: join(tmp, "cut-out") })).rejects.toMatchObject({ code: "EXPORT_SAFETENSORS_TRUNCATED" });
    expect(readdirSync(tmp).sort()).toEqual(before);
  });
});

/** Rewrites a safetensors header in place (the data stays where it was). */
function rewriteHeader(dir: string, edit: (header: Record<string, any>) => Record<string, any>): void {
  const path = join(dir, "model.safetensors");
  const st = readFileSync(path);
  const len = Number(st.readBigUInt64LE(0));
  let json = JSON.stringify(edit(JSON.parse(st.subarray(8, 8 + len).toString())));
  json += " ".repeat((8 - (json.length % 8)) % 8);
  const l = Buffer.alloc(8);
  l.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(path, Buffer.concat([l, Buffer.from(json), st.subarray(8 + len)]));
}
