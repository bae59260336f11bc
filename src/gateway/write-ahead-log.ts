import { randomBytes } from "node:crypto";
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { dirname, join } from "node:path";
import { currentWalOwner, isWalOwnerDead, parseWalOwner } from "./wal-owner.js";

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
const OWNER_FILE = "owner.json";
const ORPHANS = "orphans";

export interface Segment {
  seq: number;
  path: string;
}

/**
 * The gateway's write-ahead log: JSONL segments under .tunekit/gateway-wal/<owner>/, one folder per gateway
 * process (owner.json says which). `append` resolves once the line is written (and, with durability fsync,
 * fdatasync'd) — the response is sent only after that, so a record that was acknowledged survives a SIGKILL and
 * is replayed into the database on the next start. Appends arriving while a write is in flight are grouped into
 * the next write (group commit): one write + one fdatasync per batch, so the cost per request falls as load rises.
 *
 * Several gateways may share a workspace: each writes only its own folder, and a starting gateway takes over
 * (renames into its own `orphans/`) only the folders of owners that are provably dead, so a live gateway's
 * segments are never replayed or deleted under it.
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

  private constructor(readonly dir: string, private readonly options: WalOptions) {
    this.maxBytes = options.maxSegmentBytes ?? 8 << 20;
  }

  /** Segments of a folder, oldest first. */
  static segmentsIn(dir: string): Segment[] {
    if (!existsSync(dir)) return [];
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

  /**
   * Creates this process's folder under `root` (owner.json first, then an atomic rename, so a folder never
   * exists without its owner) and takes over what dead owners left: see `orphanSegments`.
   */
  static async open(root: string, options: WalOptions): Promise<WriteAheadLog> {
    mkdirSync(root, { recursive: true });
    const owner = currentWalOwner();
    const name = `${owner.pid}-${randomBytes(4).toString("hex")}`;
    const staging = join(root, `.staging-${name}`);
    mkdirSync(staging);
    writeOwnerFile(join(staging, OWNER_FILE), `${JSON.stringify(owner)}\n`, options.durability === "fsync");
    renameSync(staging, join(root, name));
    const wal = new WriteAheadLog(join(root, name), options);
    claimDeadOwners(root, name);
    if (options.durability === "fsync") syncDir(root);
    await wal.rotate();
    return wal;
  }

  /** Segments taken over from dead owners (and from a pre-ownership tunekit), to replay then `removeOrphans`. */
  orphanSegments(): Segment[] {
    const out: Segment[] = [];
    const walk = (dir: string) => {
      out.push(...WriteAheadLog.segmentsIn(dir));
      const nested = join(dir, ORPHANS);
      if (existsSync(nested)) for (const name of readdirSync(nested).sort()) walk(join(nested, name));
    };
    const top = join(this.dir, ORPHANS);
    if (existsSync(top)) for (const name of readdirSync(top).sort()) walk(join(top, name));
    return out;
  }

  removeOrphans(): void {
    rmSync(join(this.dir, ORPHANS), { recursive: true, force: true });
  }

  /** After a clean close with every record stored: the folder goes (an empty folder would look like a crash). */
  removeIfDrained(): boolean {
    if (!this.closed || WriteAheadLog.segmentsIn(this.dir).length > 0 || existsSync(join(this.dir, ORPHANS))) return false;
    rmSync(this.dir, { recursive: true, force: true });
    return true;
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

/**
 * Renames into `<root>/<self>/orphans/` every owner folder whose owner is provably dead, and the segments a
 * tunekit before per-process folders left directly in `root`. A rename is atomic, so when two gateways start at
 * once exactly one gets each folder; if this process dies mid-replay, its own folder (orphans included) is
 * itself taken over by the next one.
 */
function claimDeadOwners(root: string, self: string): void {
  const orphans = join(root, self, ORPHANS);
  const claim = (from: string, to: string) => {
    mkdirSync(dirname(to), { recursive: true });
    try {
      renameSync(from, to);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error; // ENOENT: another gateway took it first
    }
  };
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    if (entry.name === self) continue;
    const path = join(root, entry.name);
    if (entry.isFile() && SEGMENT.test(entry.name)) {
      claim(path, join(orphans, "legacy", entry.name));
      continue;
    }
    if (!entry.isDirectory()) continue;
    let ownerText: string;
    try {
      ownerText = readFileSync(join(path, OWNER_FILE), "utf8");
    } catch {
      continue; // not an owner folder (or being removed by its owner right now)
    }
    const owner = parseWalOwner(ownerText);
    if (!owner || !isWalOwnerDead(owner)) continue;
    if (entry.name.startsWith(".staging-")) rmSync(path, { recursive: true, force: true }); // died before its first segment
    else claim(path, join(orphans, entry.name));
  }
}

function writeOwnerFile(path: string, text: string, durable: boolean): void {
  const fd = openSync(path, "wx");
  try {
    writeFileSync(fd, text);
    if (durable) fsyncSync(fd);
  } finally {
    closeSync(fd);
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
