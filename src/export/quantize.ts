/**
 * Float formats of the tensor data: f32 → IEEE half (round to nearest even, as numpy's astype(float16) which
 * convert_hf_to_gguf uses) and q8_0 (ggml-quants.c quantize_row_q8_0_ref: blocks of 32 values, one fp16 scale
 * d = max|x| / 127 and 32 int8 q = round(x / d), round half away from zero).
 */
const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** The half-precision bits of `value`. */
export function toHalfBits(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant !== 0 ? 0x200 : 0); // inf / nan
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00; // overflow → inf
  if (e <= 0) {
    // Subnormal half (or zero): shift the implicit-1 mantissa right, rounding to nearest even.
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = mant >>> shift;
    const rem = mant & ((1 << shift) - 1);
    const mid = 1 << (shift - 1);
    return sign | (rem > mid || (rem === mid && (half & 1) === 1) ? half + 1 : half);
  }
  let half = (e << 10) | (mant >>> 13);
  const rem = mant & 0x1fff;
  // A carry out of the mantissa bumps the exponent, which is still the right rounding (up to inf).
  if (rem > 0x1000 || (rem === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** The value of half-precision bits. */
export function fromHalfBits(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

export function encodeF16(values: Float32Array): Buffer {
  const out = Buffer.alloc(values.length * 2);
  for (let i = 0; i < values.length; i++) out.writeUInt16LE(toHalfBits(values[i]), i * 2);
  return out;
}

export function encodeF32(values: Float32Array): Buffer {
  return Buffer.from(values.buffer, values.byteOffset, values.byteLength);
}

export const Q8_0_BLOCK = 32;
export const Q8_0_BLOCK_BYTES = 34;

/** q8_0 blocks of `values` (length a multiple of 32; blocks run along rows, so ne0 % 32 == 0). */
export function encodeQ8_0(values: Float32Array): Buffer {
  if (values.length % Q8_0_BLOCK !== 0) throw new Error(`q8_0 needs a multiple of ${Q8_0_BLOCK} values, got ${values.length}`);
  const blocks = values.length / Q8_0_BLOCK;
  const out = Buffer.alloc(blocks * Q8_0_BLOCK_BYTES);
  for (let b = 0; b < blocks; b++) {
    const base = b * Q8_0_BLOCK;
    let amax = 0;
    for (let j = 0; j < Q8_0_BLOCK; j++) amax = Math.max(amax, Math.abs(values[base + j]));
    // ggml computes d and 1/d in f32, stores d as fp16 and quantises with the f32 inverse.
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const at = b * Q8_0_BLOCK_BYTES;
    out.writeUInt16LE(toHalfBits(d), at);
    for (let j = 0; j < Q8_0_BLOCK; j++) {
      const x = Math.fround(values[base + j] * id);
      out.writeInt8(Math.sign(x) * Math.round(Math.abs(x)), at + 2 + j);
    }
  }
  return out;
}

/** The values q8_0 blocks stand for (d · q): what llama.cpp computes with. */
export function decodeQ8_0(bytes: Uint8Array): Float32Array {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const blocks = buf.length / Q8_0_BLOCK_BYTES;
  const out = new Float32Array(blocks * Q8_0_BLOCK);
  for (let b = 0; b < blocks; b++) {
    const d = fromHalfBits(buf.readUInt16LE(b * Q8_0_BLOCK_BYTES));
    for (let j = 0; j < Q8_0_BLOCK; j++) out[b * Q8_0_BLOCK + j] = d * buf.readInt8(b * Q8_0_BLOCK_BYTES + 2 + j);
  }
  return out;
}
