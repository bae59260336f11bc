import { combine32, mix32 } from "./hash32.js";

/**
 * MinHash over 32-bit shingle hashes. Shingle hashes are already fully mixed (murmur finaliser), so
 * permutation i is the affine bijection h -> (a_i * h + b_i) mod 2^32 with odd a_i (multiply-add universal
 * hashing, two instructions per permutation; datasketch uses the same family modulo a prime). One signature
 * is `numPerm` uint32 values; the inner loop touches only typed arrays (no allocation per record).
 */
export class MinHasher {
  readonly numPerm: number;
  private readonly mul: Int32Array;
  private readonly add: Int32Array;

  constructor(numPerm: number, seed = 1) {
    this.numPerm = numPerm;
    this.mul = new Int32Array(numPerm);
    this.add = new Int32Array(numPerm);
    let s = seed >>> 0;
    for (let i = 0; i < numPerm; i++) {
      s = (s + 0x9e3779b9) >>> 0;
      this.mul[i] = mix32(s) | 1;
      s = (s + 0x9e3779b9) >>> 0;
      this.add[i] = mix32(s);
    }
  }

  /**
   * Writes the signature of `shingles[0..count)` into `out` (length numPerm). Values are stored as int32 with
   * the sign bit flipped so signed comparison gives unsigned order; only equality matters downstream.
   * Permutation-outer loop: the running minimum stays in a register (measured ~1.6x faster than shingle-outer).
   */
  signature(shingles: Uint32Array, count: number, out: Int32Array): Int32Array {
    const mul = this.mul;
    const add = this.add;
    for (let i = 0; i < this.numPerm; i++) {
      const m = mul[i];
      const a = add[i];
      let best = 0x7fffffff;
      for (let s = 0; s < count; s++) {
        const x = ((Math.imul(shingles[s] | 0, m) + a) | 0) ^ 0x80000000;
        if (x < best) best = x;
      }
      out[i] = best;
    }
    return out;
  }
}

/** One 32-bit key per band: the hash of that band's `rows` signature values. */
export function bandKeys(signature: Int32Array, bands: number, rows: number, out: Uint32Array, offset: number): void {
  for (let b = 0; b < bands; b++) {
    let h = b;
    const base = b * rows;
    for (let r = 0; r < rows; r++) h = combine32(h, signature[base + r]);
    out[offset + b] = mix32(h);
  }
}

/** Fraction of equal positions: the MinHash estimate of Jaccard similarity. */
export function estimateJaccard(a: Int32Array, b: Int32Array): number {
  let eq = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) eq++;
  return eq / a.length;
}
