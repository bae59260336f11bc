import { createHash, type Hash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { endianness } from "node:os";
import { join } from "node:path";
import type { PackedSequence } from "./sequence-packer.js";

export interface SplitFiles {
  sequences: number;
  /** file name → sha256 hex */
  sha256: Record<string, string>;
}

const FLUSH_BYTES = 4 << 20;

class BufferedFile {
  private chunks: Buffer[] = [];
  private pending = 0;
  private readonly hash: Hash = createHash("sha256");

  private constructor(
    readonly name: string,
    private readonly handle: FileHandle,
  ) {}

  static async create(dir: string, name: string): Promise<BufferedFile> {
    return new BufferedFile(name, await open(join(dir, name), "wx"));
  }

  async write(view: ArrayBufferView): Promise<void> {
    // Copy: the packer's arrays are handed over, but a copy keeps this writer independent of their reuse.
    const bytes = Buffer.from(new Uint8Array(view.buffer, view.byteOffset, view.byteLength));
    this.chunks.push(bytes);
    this.pending += bytes.length;
    if (this.pending >= FLUSH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.pending === 0) return;
    const data = Buffer.concat(this.chunks, this.pending);
    this.chunks = [];
    this.pending = 0;
    this.hash.update(data);
    await this.handle.write(data);
  }

  async close(): Promise<string> {
    await this.flush();
    await this.handle.sync();
    await this.handle.close();
    return this.hash.digest("hex");
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

/**
 * Streams one split's three files (docs/shard-format.md): `<split>.tokens.bin` uint32 LE, `.mask.bin` uint8,
 * `.segments.bin` uint16 LE, row i = sequence i. Typed arrays are written as their bytes, so the host must be
 * little-endian (every platform Node ships for); asserted rather than silently byte-swapped.
 */
export class SplitShardWriter {
  private sequences = 0;

  private constructor(private readonly files: BufferedFile[]) {}

  static async create(dir: string, split: string): Promise<SplitShardWriter> {
    if (endianness() !== "LE") throw new Error("shards are little-endian; this host is big-endian");
    const files: BufferedFile[] = [];
    try {
      for (const kind of ["tokens", "mask", "segments"]) files.push(await BufferedFile.create(dir, `${split}.${kind}.bin`));
    } catch (error) {
      await Promise.all(files.map((f) => f.abort()));
      throw error;
    }
    return new SplitShardWriter(files);
  }

  async write(sequence: PackedSequence): Promise<void> {
    await this.files[0].write(sequence.tokens);
    await this.files[1].write(sequence.mask);
    await this.files[2].write(sequence.segments);
    this.sequences++;
  }

  async close(): Promise<SplitFiles> {
    const sha256: Record<string, string> = {};
    for (const file of this.files) sha256[file.name] = await file.close();
    return { sequences: this.sequences, sha256 };
  }

  async abort(): Promise<void> {
    await Promise.all(this.files.map((f) => f.abort()));
  }
}
