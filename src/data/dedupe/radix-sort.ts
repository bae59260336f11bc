/**
 * Stable LSD radix sort of indices 0..n-1 by uint32 keys (keys[i*stride + offset]), four 8-bit passes. Used to
 * group LSH band keys into buckets in O(n) without a comparator or per-item objects.
 */
export function sortIndicesByKey(keys: Uint32Array, n: number, stride: number, offset: number): Uint32Array {
  let idx = new Uint32Array(n);
  let tmp = new Uint32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  const count = new Uint32Array(256);
  for (let shift = 0; shift < 32; shift += 8) {
    count.fill(0);
    for (let i = 0; i < n; i++) count[(keys[idx[i] * stride + offset] >>> shift) & 255]++;
    let sum = 0;
    for (let d = 0; d < 256; d++) {
      const c = count[d];
      count[d] = sum;
      sum += c;
    }
    for (let i = 0; i < n; i++) {
      const id = idx[i];
      tmp[count[(keys[id * stride + offset] >>> shift) & 255]++] = id;
    }
    const swap = idx;
    idx = tmp;
    tmp = swap;
  }
  return idx;
}
