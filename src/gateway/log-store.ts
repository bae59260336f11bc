import type { Kysely } from "kysely";
import { NotFoundError } from "../errors/index.js";
import { recordToRow, rowToFeedback, rowToRecord, type FeedbackInput, type FeedbackRecord, type IterateRequestsFilter, type ListRequestsFilter, type LogStore, type RequestRecord } from "./records.js";
import type { GatewayDatabase, GatewayDialect } from "./store-schema.js";

/**
 * Bind parameters one statement may carry: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32) and
 * PostgreSQL's 65535 wire-protocol limit, with headroom.
 */
const MAX_PARAMS: Record<GatewayDialect, number> = { sqlite: 30_000, postgres: 60_000 };

/** Rows per transaction of SQLite's bulk insert: ~0.2 ms of a blocked event loop each. */
const SQLITE_SLICE_ROWS = 50;

type InsertableRow = ReturnType<typeof recordToRow>;
/** Writes rows synchronously in one transaction, skipping ids already stored (a replayed segment). */
export type RowWriter = (rows: readonly InsertableRow[]) => void;

/** Rows per page of iterateRequests: a few MB at most with stored content, few round trips without. */
const REQUEST_PAGE_SIZE = 500;

/**
 * The request log and feedback over Kysely: one implementation for SQLite and PostgreSQL. The SQL is portable
 * (INSERT … ON CONFLICT DO NOTHING and RETURNING exist on both); the dialect decides only the batch size and,
 * in the migrations, the column types.
 */
export class SqlLogStore implements LogStore {
  constructor(
    private readonly db: Kysely<GatewayDatabase>,
    readonly kind: GatewayDialect,
    /** Whether close() destroys the connection (PostgreSQL pool) or leaves it to its owner (gateway.db). */
    private readonly ownsDb: boolean,
    /** SQLite's synchronous bulk insert (sqlite-store.ts); without it every insert goes through Kysely. */
    private readonly writeRowsNow?: RowWriter,
  ) {}

  async insertRequests(records: readonly RequestRecord[]): Promise<void> {
    if (records.length === 0) return;
    const rows = records.map(recordToRow);
    if (this.writeRowsNow) return this.insertInSlices(rows, this.writeRowsNow);
    const perStatement = Math.max(1, Math.floor(MAX_PARAMS[this.kind] / Object.keys(rows[0]).length));
    // Each chunk is one statement (atomic by itself); a replayed segment re-inserts nothing thanks to the key.
    for (let start = 0; start < rows.length; start += perStatement) {
      await this.db
        .insertInto("requests")
        .values(rows.slice(start, start + perStatement))
        .onConflict((oc) => oc.column("id").doNothing())
        .execute();
    }
  }

  /**
   * better-sqlite3 blocks the event loop while it writes, and the gateway answers requests on that loop: a
   * 200-row flush through Kysely (one multi-row statement compiled and prepared afresh) held it ~2–3 ms. One
   * prepared statement in a transaction per slice of SQLITE_SLICE_ROWS, a turn of the loop between slices, costs
   * ~0.2 ms per slice. Kysely's connection is held throughout, so no slice lands inside another query's
   * transaction (applyRetention's) and rolls back with it.
   */
  private async insertInSlices(rows: readonly InsertableRow[], write: RowWriter): Promise<void> {
    await this.db.connection().execute(async () => {
      for (let start = 0; start < rows.length; start += SQLITE_SLICE_ROWS) {
        if (start > 0) await new Promise((resolve) => setImmediate(resolve));
        write(rows.slice(start, start + SQLITE_SLICE_ROWS));
      }
    });
  }

  async insertFeedback(input: FeedbackInput, ts: number): Promise<FeedbackRecord> {
    const exists = await this.db.selectFrom("requests").select("id").where("id", "=", input.requestId).executeTakeFirst();
    if (!exists) throw unknownRequest(input.requestId);
    const row = await this.db
      .insertInto("feedback")
      .values({ request_id: input.requestId, ts, score: input.score ?? null, label: input.label ?? null, correction: input.correction ?? null, comment: input.comment ?? null })
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToFeedback(row);
  }

  async getRequest(id: string): Promise<RequestRecord | null> {
    const row = await this.db.selectFrom("requests").selectAll().where("id", "=", id).executeTakeFirst();
    return row ? rowToRecord(row) : null;
  }

  async listRequests(filter: ListRequestsFilter = {}): Promise<RequestRecord[]> {
    let q = this.selectRequests(filter);
    if (filter.limit) q = q.limit(Math.floor(filter.limit));
    return (await q.execute()).map(rowToRecord);
  }

  /**
   * Keyset pagination on (ts, id), the primary key breaking ties: each page starts after the last row of the
   * previous one, so no row is skipped or repeated however many share a timestamp, and no page costs more
   * than its own rows (an OFFSET would rescan every earlier page). Each page is its own statement: rows
   * logged meanwhile with a later (ts, id) are yielded too, none is held in a long transaction.
   */
  async *iterateRequests(filter: IterateRequestsFilter = {}): AsyncGenerator<RequestRecord> {
    const pageSize = Math.max(1, Math.floor(filter.pageSize ?? REQUEST_PAGE_SIZE));
    let after: { ts: number; id: string } | null = null;
    for (;;) {
      let q = this.selectRequests(filter).limit(pageSize);
      if (after) {
        const { ts, id } = after;
        q = q.where((eb) => eb.or([eb("ts", ">", ts), eb.and([eb("ts", "=", ts), eb("id", ">", id)])]));
      }
      const page = (await q.execute()).map(rowToRecord);
      yield* page;
      if (page.length < pageSize) return;
      const last = page[page.length - 1];
      after = { ts: last.ts, id: last.id };
    }
  }

  private selectRequests(filter: IterateRequestsFilter) {
    let q = this.db.selectFrom("requests").selectAll().orderBy("ts").orderBy("id");
    if (filter.since !== undefined) q = q.where("ts", ">=", filter.since);
    if (filter.until !== undefined) q = q.where("ts", "<", filter.until);
    if (filter.variant !== undefined) q = q.where("variant", "=", filter.variant);
    if (filter.experiment !== undefined) q = q.where("experiment", "=", filter.experiment);
    return q;
  }

  async countRequests(): Promise<number> {
    const row = await this.db.selectFrom("requests").select((eb) => eb.fn.countAll().as("n")).executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async listFeedback(filter: { since?: number } = {}): Promise<FeedbackRecord[]> {
    const rows = await this.db.selectFrom("feedback").selectAll().where("ts", ">=", filter.since ?? 0).orderBy("id").execute();
    return rows.map(rowToFeedback);
  }

  async applyRetention(options: { olderThan?: number; maxRecords?: number }): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      let deleted = 0;
      if (options.olderThan !== undefined) {
        deleted += Number((await trx.deleteFrom("requests").where("ts", "<", options.olderThan).executeTakeFirst()).numDeletedRows);
      }
      if (options.maxRecords !== undefined) {
        // The newest row beyond the limit, then everything at or before it in (ts, id) order: portable where
        // OFFSET without LIMIT is not (SQLite needs LIMIT -1, PostgreSQL has LIMIT ALL).
        const cut = await trx.selectFrom("requests").select(["ts", "id"]).orderBy("ts", "desc").orderBy("id", "desc").limit(1).offset(options.maxRecords).executeTakeFirst();
        if (cut) {
          const ts = Number(cut.ts);
          const result = await trx
            .deleteFrom("requests")
            .where((eb) => eb.or([eb("ts", "<", ts), eb.and([eb("ts", "=", ts), eb("id", "<=", cut.id)])]))
            .executeTakeFirst();
          deleted += Number(result.numDeletedRows);
        }
      }
      if (deleted > 0) await trx.deleteFrom("feedback").where("request_id", "not in", trx.selectFrom("requests").select("id")).execute();
      return deleted;
    });
  }

  async close(): Promise<void> {
    if (this.ownsDb) await this.db.destroy();
  }
}

export function unknownRequest(id: string): NotFoundError {
  return new NotFoundError("GATEWAY_REQUEST_NOT_FOUND", `no logged request has id ${JSON.stringify(id)}`, {
    fix: "send the value of the x-tunekit-request-id response header (records land in the log within a second of the response)",
  });
}
