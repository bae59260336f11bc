import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, unlinkSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

export type Durability = "fsync" | "write";

export interface WalOptions {
  durability: Durability;
  /** A segment is closed and a new one opened past this size. */
  maxSegmentBytes?: number;
  /** Called when a segment is closed (no more appends); its records may still be on their way to the database. */
  onSegmentClosed?: (seq: number) => void;
}

interface Pending {
  line: string;
  resolve: (seq: number) => void;
  reject: (error: Error) => void;
}

const SEGMENT = /^segment-(\d{12})\.jsonl$/;

/**
 * The gateway's write-ahead log: JSONL segments under .tunekit/gateway-wal/. `append` resolves once the line is
 * written (and, with durability fsync, fdatasync'd) — the response is sent only after that, so a record that was
 * acknowledged survives a SIGKILL and is replayed into the database on the next start. Appends arriving while a
 * write is in flight are grouped into the next write (group commit): one write + one fdatasync per batch, so the
 * cost per request falls as load rises.
 */
export class WriteAheadLog {
  private pending: Pending[] = [];
  private flushing = false;
  private scheduled = false;
  private handle: FileHandle | null = null;
  private seq = 0;
  private bytes = 0;
  private closed = false;
  private readonly maxBytes: number;

  private constructor(private readonly dir: string, private readonly options: WalOptions) {
    this.maxBytes = options.maxSegmentBytes ?? 8 << 20;
  }

  /** Segments left by an earlier process (oldest first): replay them, then delete them with `removeSegment`. */
  static leftoverSegments(dir: string): { seq: number; path: string }[] {
    mkdirSync(dir, { recursive: true });
    return readdirSync(dir)
      .map((name) => ({ name, m: SEGMENT.exec(name) }))
      .filter((e) => e.m !== null)
      .map((e) => ({ seq: Number(e.m![1]), path: join(dir, e.name) }))
      .sort((a, b) => a.seq - b.seq);
  }

  /** The records of one segment; a torn last line (the process died mid-write, never acknowledged) is skipped. */
  static readSegment<T>(path: string): T[] {
    const out: T[] = [];
    for (const line of readFileSync(path, "utf8").split("\n")) {
      if (!line) continue;
      try {
        out.push(JSON.parse(line) as T);
      } catch {
        // only the unacknowledged tail can be partial
      }
    }
    return out;
  }

  static async open(dir: string, options: WalOptions): Promise<WriteAheadLog> {
    const leftovers = WriteAheadLog.leftoverSegments(dir);
    const wal = new WriteAheadLog(dir, options);
    wal.seq = leftovers.length ? leftovers[leftovers.length - 1].seq : 0;
    await wal.rotate();
    return wal;
  }

  get currentSeq(): number {
    return this.seq;
  }

  segmentPath(seq: number): string {
    return join(this.dir, `segment-${String(seq).padStart(12, "0")}.jsonl`);
  }

  removeSegment(seq: number): void {
    try {
      unlinkSync(this.segmentPath(seq));
    } catch {
      // already gone
    }
  }

  append(record: unknown): Promise<number> {
    if (this.closed) return Promise.reject(new Error("write-ahead log is closed"));
    return new Promise((resolve, reject) => {
      this.pending.push({ line: `${JSON.stringify(record)}\n`, resolve, reject });
      if (!this.flushing && !this.scheduled) {
        this.scheduled = true;
        setImmediate(() => void this.flush());
      }
    });
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    if (this.flushing) return;
    this.flushing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending;
        this.pending = [];
        const seq = this.seq;
        try {
          const data = Buffer.from(batch.map((p) => p.line).join(""));
          await this.handle!.write(data);
          if (this.options.durability === "fsync") await this.handle!.datasync();
          this.bytes += data.length;
          for (const p of batch) p.resolve(seq);
        } catch (error) {
          for (const p of batch) p.reject(error as Error);
        }
        if (this.bytes >= this.maxBytes) await this.rotate();
      }
    } finally {
      this.flushing = false;
    }
  }

  private async rotate(): Promise<void> {
    const previous = this.handle;
    const previousSeq = this.seq;
    this.seq += 1;
    this.bytes = 0;
    // Create the file durably (its directory entry too) before anything is acknowledged into it.
    this.handle = await open(this.segmentPath(this.seq), "a");
    if (this.options.durability === "fsync") syncDir(this.dir);
    if (previous) {
      await previous.close();
      this.options.onSegmentClosed?.(previousSeq);
    }
  }

  /** Waits for every append so far, then closes the segment. */
  async close(): Promise<void> {
    if (this.closed) return;
    while (this.flushing || this.pending.length > 0 || this.scheduled) {
      if (!this.flushing) await this.flush();
      else await new Promise((r) => setTimeout(r, 1));
    }
    this.closed = true;
    await this.handle?.close();
    this.handle = null;
    this.options.onSegmentClosed?.(this.seq);
  }
}

function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, "r");
    try {
      fsyncSync(fd); // persists the new directory entry (Linux)
    } finally {
      closeSync(fd);
    }
  } catch {
    // best effort where directories cannot be fsync'd
  }
}
