/**
 * Fast non-cryptographic 32-bit hashing for dedupe. MurmurHash3's finaliser (fmix32) gives full avalanche,
 * so the hash of a word or a shingle can be turned into many independent-looking permutations cheaply.
 * Everything here works on UTF-16 code units: normalised text is already NFC, so equal strings hash equally.
 */
export function mix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** MurmurHash3-style hash of `text.slice(start, end)` (code units), without allocating the substring. */
export function hashRange32(text: string, start: number, end: number, seed = 0): number {
  let h = seed | 0;
  for (let i = start; i < end; i++) {
    let k = Math.imul(text.charCodeAt(i), 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  return mix32(h ^ (end - start));
}

export function hashString32(text: string, seed = 0): number {
  return hashRange32(text, 0, text.length, seed);
}

/** Order-dependent combination of 32-bit hashes (for shingles and LSH bands). */
export function combine32(h: number, value: number): number {
  let k = Math.imul(value, 0xcc9e2d51);
  k = (k << 15) | (k >>> 17);
  k = Math.imul(k, 0x1b873593);
  h ^= k;
  h = (h << 13) | (h >>> 19);
  return (Math.imul(h, 5) + 0xe6546b64) | 0;
}

/**
 * A 53-bit key (exactly representable as a JS number) from two independent 32-bit hashes. Used as the exact
 * duplicate key: the chance of a false match among a million distinct texts is about 5e-5.
 */
export function hashKey53(text: string): number {
  const hi = hashString32(text, 0x9747b28c) & 0x1fffff;
  const lo = hashString32(text, 0x2f8a6b1d);
  return hi * 4294967296 + lo;
}
