import { GrowableFloat32, GrowableUint32 } from "./growable.js";
import { hashKey53 } from "./hash32.js";
import { chooseLshParams, type LshParams } from "./lsh-params.js";
import { bandKeys, MinHasher } from "./minhash.js";
import { sortIndicesByKey } from "./radix-sort.js";
import { jaccardSorted, shingleHashes } from "./shingles.js";
import { UnionFind } from "./union-find.js";

export interface DetectorOptions {
  /** Jaccard similarity of word shingles at or above which two texts are near-duplicates. */
  threshold: number;
  numPerm: number;
  /** Words per shingle. */
  ngram: number;
  seed: number;
  /** Override the banding chosen for the threshold. */
  lsh?: LshParams;
  /** Find near-duplicates at all (exact-only is much faster). */
  near: boolean;
}

export interface DetectionResult {
  count: number;
  lsh: LshParams;
  /** Per document: the cluster number or -1. */
  clusterOf: Int32Array;
  /** Cluster c's members are clusterMembers[clusterOffsets[c] .. clusterOffsets[c+1]), ascending. */
  clusterOffsets: Uint32Array;
  clusterMembers: Uint32Array;
  /** Per cluster: the lowest and highest verified similarity of the edges that joined it (exact = 1). */
  clusterMinSimilarity: Float32Array;
  clusterMaxSimilarity: Float32Array;
  /** Per document: index of the earlier identical document (normalised text), or -1. */
  exactOf: Int32Array;
  /** Per document: normalised text length (for "keep the longest"). */
  lengths: Uint32Array;
  stats: { exactDuplicates: number; candidatePairs: number; verifiedPairs: number; nearEdges: number };
}

/**
 * Exact + near duplicate detection over normalised texts added one at a time. Memory per document: its sorted
 * shingle hashes (4 bytes each, for exact Jaccard verification) and one uint32 per LSH band; signatures are not
 * kept. Exact duplicates are keyed by a 53-bit hash and never shingled. `finish()` bands, verifies candidates
 * with exact Jaccard over the shingle sets, and joins verified pairs with union-find (clusters are transitive:
 * a chain a~b~c is one cluster even when a and c are below the threshold; each edge in it was verified).
 */
export class DuplicateDetector {
  private readonly options: DetectorOptions;
  private readonly lsh: LshParams;
  private readonly hasher: MinHasher;
  private readonly exactFirst = new Map<number, number>();
  private readonly exactOf = new GrowableUint32();
  private readonly lengths = new GrowableUint32();
  private readonly uniqueDocs = new GrowableUint32();
  private readonly shingleOffsets = new GrowableUint32();
  private readonly shinglePool = new GrowableUint32(1 << 16);
  private readonly bands = new GrowableUint32();
  private words: Uint32Array = new Uint32Array(256);
  private shingles: Uint32Array = new Uint32Array(256);
  private readonly signature: Int32Array;
  private readonly bandScratch: Uint32Array;
  private count = 0;

  constructor(options: DetectorOptions) {
    this.options = options;
    this.lsh = options.lsh ?? chooseLshParams(options.threshold, options.numPerm);
    if (this.lsh.bands * this.lsh.rows > options.numPerm) {
      throw new RangeError(`bands*rows (${this.lsh.bands}*${this.lsh.rows}) exceeds numPerm ${options.numPerm}`);
    }
    this.hasher = new MinHasher(options.numPerm, options.seed);
    this.signature = new Int32Array(options.numPerm);
    this.bandScratch = new Uint32Array(this.lsh.bands);
    this.shingleOffsets.push(0);
  }

  /** Adds one normalised text; returns its document index. */
  add(normalised: string): number {
    const doc = this.count++;
    this.lengths.push(normalised.length);
    const key = hashKey53(normalised);
    const first = this.exactFirst.get(key);
    if (first !== undefined) {
      this.exactOf.push(first);
      return doc;
    }
    this.exactFirst.set(key, doc);
    this.exactOf.push(0xffffffff);
    if (!this.options.near) return doc;
    const res = shingleHashes(normalised, this.options.ngram, this.words, this.shingles);
    this.words = res.words;
    this.shingles = res.out;
    if (res.count === 0) return doc;
    const set = res.out.subarray(0, res.count);
    this.uniqueDocs.push(doc);
    this.shinglePool.append(set);
    this.shingleOffsets.push(this.shinglePool.length);
    this.hasher.signature(set, res.count, this.signature);
    bandKeys(this.signature, this.lsh.bands, this.lsh.rows, this.bandScratch, 0);
    this.bands.append(this.bandScratch);
    return doc;
  }

  finish(): DetectionResult {
    const n = this.count;
    const uf = new UnionFind(n);
    const edgeA = new GrowableUint32();
    const edgeB = new GrowableUint32();
    const edgeSim = new GrowableFloat32();
    const exactOf = new Int32Array(n);
    let exactDuplicates = 0;
    for (let i = 0; i < n; i++) {
      const first = this.exactOf.get(i);
      exactOf[i] = first === 0xffffffff ? -1 : first;
      if (first !== 0xffffffff) {
        exactDuplicates++;
        uf.union(first, i);
        edgeA.push(first);
        edgeB.push(i);
        edgeSim.push(1);
      }
    }
    let candidatePairs = 0;
    let verifiedPairs = 0;
    const m = this.uniqueDocs.length;
    const nb = this.lsh.bands;
    const keys = this.bands.view();
    const offsets = this.shingleOffsets.view();
    const pool = this.shinglePool.view();
    const docs = this.uniqueDocs.view();
    const threshold = this.options.threshold;
    const tryPair = (pa: number, pb: number): boolean => {
      const a = docs[pa];
      const b = docs[pb];
      if (uf.find(a) === uf.find(b)) return true;
      candidatePairs++;
      const sa = pool.subarray(offsets[pa], offsets[pa + 1]);
      const sb = pool.subarray(offsets[pb], offsets[pb + 1]);
      const small = Math.min(sa.length, sb.length);
      const large = Math.max(sa.length, sb.length);
      if (small < threshold * large) return false; // Jaccard <= small/large
      const sim = jaccardSorted(sa, sb);
      if (sim < threshold) return false;
      verifiedPairs++;
      uf.union(a, b);
      edgeA.push(a);
      edgeB.push(b);
      edgeSim.push(sim);
      return true;
    };
    for (let band = 0; band < nb; band++) {
      const order = sortIndicesByKey(keys, m, nb, band);
      let start = 0;
      while (start < m) {
        const key = keys[order[start] * nb + band];
        let end = start + 1;
        while (end < m && keys[order[end] * nb + band] === key) end++;
        // Each member is checked against the bucket's first member and, failing that, its predecessor: linear
        // in the bucket size, and a verified chain still joins everything similar in the bucket.
        for (let k = start + 1; k < end; k++) {
          if (!tryPair(order[start], order[k]) && k - 1 > start) tryPair(order[k - 1], order[k]);
        }
        start = end;
      }
    }
    return buildClusters(n, uf, edgeA, edgeB, edgeSim, exactOf, this.lengths.view().slice(), this.lsh, {
      exactDuplicates,
      candidatePairs,
      verifiedPairs,
      nearEdges: verifiedPairs,
    });
  }
}

function buildClusters(
  n: number,
  uf: UnionFind,
  edgeA: GrowableUint32,
  edgeB: GrowableUint32,
  edgeSim: GrowableFloat32,
  exactOf: Int32Array,
  lengths: Uint32Array,
  lsh: LshParams,
  stats: DetectionResult["stats"],
): DetectionResult {
  const roots = new Uint32Array(n);
  const rootSize = new Uint32Array(n);
  for (let i = 0; i < n; i++) {
    roots[i] = uf.find(i);
    rootSize[roots[i]]++;
  }
  const clusterOf = new Int32Array(n).fill(-1);
  const rootCluster = new Int32Array(n).fill(-1);
  const sizes: number[] = [];
  // Clusters are numbered in order of their first member, so numbering is stable for a given input.
  for (let i = 0; i < n; i++) {
    const r = roots[i];
    if (rootSize[r] < 2) continue;
    if (rootCluster[r] === -1) {
      rootCluster[r] = sizes.length;
      sizes.push(rootSize[r]);
    }
    clusterOf[i] = rootCluster[r];
  }
  const clusterOffsets = new Uint32Array(sizes.length + 1);
  for (let c = 0; c < sizes.length; c++) clusterOffsets[c + 1] = clusterOffsets[c] + sizes[c];
  const fill = clusterOffsets.slice(0, sizes.length);
  const clusterMembers = new Uint32Array(clusterOffsets[sizes.length]);
  for (let i = 0; i < n; i++) if (clusterOf[i] >= 0) clusterMembers[fill[clusterOf[i]]++] = i;
  const minSim = new Float32Array(sizes.length).fill(1);
  const maxSim = new Float32Array(sizes.length).fill(0);
  for (let e = 0; e < edgeA.length; e++) {
    const c = clusterOf[edgeA.get(e)];
    const s = edgeSim.get(e);
    if (s < minSim[c]) minSim[c] = s;
    if (s > maxSim[c]) maxSim[c] = s;
  }
  void edgeB;
  return {
    count: n,
    lsh,
    clusterOf,
    clusterOffsets,
    clusterMembers,
    clusterMinSimilarity: minSim,
    clusterMaxSimilarity: maxSim,
    exactOf,
    lengths,
    stats,
  };
}
