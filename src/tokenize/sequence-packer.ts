/** One document ready to place: ids and mask of equal length, length <= seqLen. */
export interface PackDocument {
  ids: ArrayLike<number>;
  mask: ArrayLike<number>;
}

/** One row of a shard: tokens (uint32), mask (uint8), segments (uint16), each exactly seqLen long. */
export interface PackedSequence {
  tokens: Uint32Array;
  mask: Uint8Array;
  segments: Uint16Array;
  /** Non-padding tokens. */
  used: number;
  documents: number;
  trained: number;
}

interface OpenBin {
  sequence: PackedSequence;
}

/**
 * Places documents into fixed-length sequences, greedy first-fit in input order: each document goes into the
 * first open sequence with room, else a new one. At most `maxOpen` sequences stay open (memory stays bounded
 * while streaming); the oldest is emitted when another must open. Without packing every document gets its own
 * padded sequence. The same documents in the same order always give the same sequences.
 *
 * Segment semantics (docs/shard-format.md): segments are numbered 1..k inside a sequence, 0 is padding; the first
 * token of every segment is never a target (mask 0), since nothing of its document precedes it.
 */
export class SequencePacker {
  private readonly open: OpenBin[] = [];

  constructor(
    private readonly seqLen: number,
    private readonly padId: number,
    private readonly packing: boolean,
    private readonly maxOpen = 64,
  ) {
    if (!Number.isInteger(seqLen) || seqLen < 2) throw new Error(`seqLen must be an integer >= 2, got ${seqLen}`);
  }

  /** Adds a document; returns the sequences completed by doing so (in order). */
  add(doc: PackDocument): PackedSequence[] {
    const length = doc.ids.length;
    if (length === 0) return [];
    if (length > this.seqLen) throw new Error(`document of ${length} tokens exceeds seq_len ${this.seqLen}; truncate first`);
    const done: PackedSequence[] = [];
    let bin = this.packing ? this.open.find((b) => this.seqLen - b.sequence.used >= length) : undefined;
    if (bin === undefined) {
      if (this.open.length >= (this.packing ? this.maxOpen : 0) && this.open.length > 0) done.push(this.open.shift()!.sequence);
      bin = { sequence: this.emptySequence() };
      this.open.push(bin);
    }
    const seq = bin.sequence;
    const segment = ++seq.documents;
    if (segment > 0xffff) throw new Error("more than 65535 documents in one sequence");
    for (let i = 0; i < length; i++) {
      const t = seq.used + i;
      seq.tokens[t] = doc.ids[i];
      const trained = i === 0 ? 0 : doc.mask[i] ? 1 : 0;
      seq.mask[t] = trained;
      seq.trained += trained;
      seq.segments[t] = segment;
    }
    seq.used += length;
    if (!this.packing || seq.used === this.seqLen) {
      this.open.splice(this.open.indexOf(bin), 1);
      done.push(seq);
    }
    return done;
  }

  /** Emits every open sequence, oldest first. */
  flush(): PackedSequence[] {
    return this.open.splice(0, this.open.length).map((b) => b.sequence);
  }

  private emptySequence(): PackedSequence {
    const tokens = new Uint32Array(this.seqLen);
    tokens.fill(this.padId);
    return { tokens, mask: new Uint8Array(this.seqLen), segments: new Uint16Array(this.seqLen), used: 0, documents: 0, trained: 0 };
  }
}
