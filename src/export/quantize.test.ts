import { describe, expect, it } from "vitest";
import { decodeQ8_0, encodeF16, encodeQ8_0, fromHalfBits, toHalfBits } from "./quantize.js";

describe("f16", () => {
  it("rounds to the nearest half, ties to even, with subnormals, overflow and nan", () => {
    const cases: [number, number][] = [
      [0, 0x0000],
      [-0, 0x8000],
      [1, 0x3c00],
      [-2, 0xc000],
      [0.1, 0x2e66],
      [65504, 0x7bff],
      [65520, 0x7c00],
      [2 ** -24, 0x0001],
      [2 ** -26, 0x0000],
      [1 + 2 ** -11, 0x3c00],
      [1 + 3 * 2 ** -11, 0x3c02],
      [Infinity, 0x7c00],
    ];
    expect(cases.map(([v]) => toHalfBits(v))).toEqual(cases.map(([, h]) => h));
    expect(toHalfBits(NaN) & 0x7c00).toBe(0x7c00);
    expect(fromHalfBits(0x3555)).toBeCloseTo(1 / 3, 3);
    expect([...encodeF16(new Float32Array([1, -2]))]).toEqual([0x00, 0x3c, 0x00, 0xc0]);
  });
});

describe("q8_0", () => {
  it("stores a block of 32 as an fp16 scale max|x|/127 and 32 rounded int8, and round-trips within half a step", () => {
    const values = new Float32Array(64).map((_, i) => (i < 32 ? (i - 16) / 4 : Math.sin(i)));
    const bytes = encodeQ8_0(values);
    expect(bytes.length).toBe(68);
    expect(fromHalfBits(bytes.readUInt16LE(0))).toBeCloseTo(4 / 127, 4);
    expect(bytes.readInt8(2)).toBe(-127); // -4 = -max
    expect(bytes.readInt8(2 + 16)).toBe(0);
    const back = decodeQ8_0(bytes);
    for (let b = 0; b < 2; b++) {
      const d = fromHalfBits(bytes.readUInt16LE(b * 34));
      for (let j = 0; j < 32; j++) expect(Math.abs(back[b * 32 + j] - values[b * 32 + j])).toBeLessThanOrEqual(d / 2 + Math.abs(values[b * 32 + j]) * 1e-3);
    }
  });

  it("writes an all-zero block as scale 0 and zeros", () => {
    expect(encodeQ8_0(new Float32Array(32)).equals(Buffer.alloc(34))).toBe(true);
  });
});
