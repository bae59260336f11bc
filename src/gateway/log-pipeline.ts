import { unlinkSync } from "node:fs";
import type { Logger } from "../log/index.js";
import type { LogStore, RequestRecord } from "./records.js";
import { redactPii } from "./redact-pii.js";
import { WriteAheadLog, type Durability } from "./write-ahead-log.js";

export interface LogPipelineOptions {
  store: LogStore;
  /** Folder of write-ahead segments; ignored with durability "memory". */
  walDir: string;
  durability: Durability | "memory";
  batchSize: number;
  flushMs: number;
  redactPii: boolean;
  retention?: { days?: number; maxRecords?: number };
  logger?: Logger;
  now?: () => number;
}

export interface LogPipelineStats {
  replayed: number;
  written: number;
  queued: number;
  failedBatches: number;
}

/**
 * Request logging off the response path. `log()` resolves once the record is in the write-ahead log (the
 * response waits for that, and nothing else); a timer moves queued records into the database in batches
 * (idempotent inserts), and a segment is deleted once it is closed and all its records are stored. On start,
 * segments left by a crashed process are replayed; `close()` (SIGTERM) drains everything.
 */
export class LogPipeline {
  private queue: { record: RequestRecord; seq: number }[] = [];
  private readonly outstanding = new Map<number, number>();
  private readonly closedSegments = new Set<number>();
  private wal: WriteAheadLog | null = null;
  private timer: NodeJS.Timeout | null = null;
  private retentionTimer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  readonly stats: LogPipelineStats = { replayed: 0, written: 0, queued: 0, failedBatches: 0 };

  private constructor(private readonly options: LogPipelineOptions) {}

  static async start(options: LogPipelineOptions): Promise<LogPipeline> {
    const pipeline = new LogPipeline(options);
    if (options.durability !== "memory") {
      pipeline.wal = await WriteAheadLog.open(options.walDir, {
        durability: options.durability,
        onSegmentClosed: (seq) => {
          pipeline.closedSegments.add(seq);
          pipeline.releaseSegments();
        },
      });
      await pipeline.replay(pipeline.wal);
    }
    pipeline.timer = setInterval(() => void pipeline.drain(), options.flushMs);
    pipeline.timer.unref();
    if (options.retention?.days !== undefined || options.retention?.maxRecords !== undefined) {
      pipeline.retentionTimer = setInterval(() => void pipeline.applyRetention(), 60_000);
      pipeline.retentionTimer.unref();
      await pipeline.applyRetention();
    }
    return pipeline;
  }

  /** This process's folder of write-ahead segments (null with durability "memory"). */
  get segmentDir(): string | null {
    return this.wal?.dir ?? null;
  }

  /**
   * Records that dead gateways left in their write-ahead segments (now in our folder's orphans/) go into the
   * database, then the files go. A live gateway's folder is never among them (see WriteAheadLog.open).
   */
  private async replay(wal: WriteAheadLog): Promise<void> {
    for (const segment of wal.orphanSegments()) {
      const records = WriteAheadLog.readSegment<RequestRecord>(segment.path);
      for (let i = 0; i < records.length; i += this.options.batchSize) {
        await this.options.store.insertRequests(records.slice(i, i + this.options.batchSize));
      }
      this.stats.replayed += records.length;
      unlinkSync(segment.path);
    }
    wal.removeOrphans();
    if (this.stats.replayed > 0) this.options.logger?.info({ records: this.stats.replayed }, "replayed write-ahead log into the request log");
  }

  /** Resolves when the record is acknowledged (in the write-ahead log, per the durability setting). */
  async log(record: RequestRecord): Promise<void> {
    const stored = this.options.redactPii ? redactRecord(record) : record;
    const seq = this.wal ? await this.wal.append(stored) : 0;
    this.outstanding.set(seq, (this.outstanding.get(seq) ?? 0) + 1);
    this.queue.push({ record: stored, seq });
    this.stats.queued += 1;
    if (this.queue.length >= this.options.batchSize) void this.drain();
  }

  /** Writes everything queued so far to the database. */
  async drain(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.queue.length === 0) return;
    this.writing = this.writeQueued();
    try {
      await this.writing;
    } finally {
      this.writing = null;
    }
  }

  private async writeQueued(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.slice(0, this.options.batchSize);
      try {
        await this.options.store.insertRequests(batch.map((b) => b.record));
      } catch (error) {
        // Kept in the queue and in the write-ahead log; the next tick retries.
        this.stats.failedBatches += 1;
        this.options.logger?.error({ err: (error as Error).message, records: batch.length }, "request log batch failed; will retry");
        return;
      }
      this.queue.splice(0, batch.length);
      this.stats.written += batch.length;
      for (const b of batch) this.outstanding.set(b.seq, (this.outstanding.get(b.seq) ?? 1) - 1);
      this.releaseSegments();
    }
  }

  private releaseSegments(): void {
    for (const seq of this.closedSegments) {
      if ((this.outstanding.get(seq) ?? 0) > 0) continue;
      this.wal?.removeSegment(seq);
      this.closedSegments.delete(seq);
      this.outstanding.delete(seq);
    }
  }

  async applyRetention(): Promise<number> {
    const r = this.options.retention;
    if (!r) return 0;
    const now = (this.options.now ?? Date.now)();
    try {
      return await this.options.store.applyRetention({
        olderThan: r.days === undefined ? undefined : now - r.days * 86_400_000,
        maxRecords: r.maxRecords,
      });
    } catch (error) {
      this.options.logger?.error({ err: (error as Error).message }, "request log retention failed");
      return 0;
    }
  }

  /** SIGTERM: stop the timers, finish the write-ahead log, store every queued record, remove the segments. */
  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.retentionTimer) clearInterval(this.retentionTimer);
    this.timer = null;
    await this.wal?.close();
    for (let attempt = 0; attempt < 3 && this.queue.length > 0; attempt++) await this.drain();
    this.releaseSegments();
    // Anything not stored stays in our folder, which the next gateway replays once this process is gone.
    if (this.queue.length === 0) this.wal?.removeIfDrained();
  }
}

function redactRecord(record: RequestRecord): RequestRecord {
  return {
    ...record,
    input: record.input === null ? null : redactPii(record.input),
    output: record.output === null ? null : redactPii(record.output),
  };
}
