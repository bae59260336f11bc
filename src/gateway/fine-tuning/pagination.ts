import { UsageError } from "../../errors/index.js";

/** OpenAI's list envelope (cursor pages: `after` = the last id of the previous page). */
export interface ListEnvelope<T> {
  object: "list";
  data: T[];
  has_more: boolean;
  first_id?: string;
  last_id?: string;
}

/** One page of `items` (already in the list's order) after the `after` id, at most `limit` (default 20) long. */
export function page<T extends { id: string }>(items: readonly T[], query: URLSearchParams, maxLimit = 100): ListEnvelope<T> {
  const raw = query.get("limit");
  const limit = raw === null ? Math.min(20, maxLimit) : Number(raw);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    throw new UsageError("FT_BAD_LIMIT", `limit ${JSON.stringify(raw)} is not a whole number from 1 to ${maxLimit}`, { fix: `pass limit between 1 and ${maxLimit}`, details: { param: "limit" } });
  }
  const after = query.get("after");
  let start = 0;
  if (after) {
    const i = items.findIndex((item) => item.id === after);
    if (i < 0) throw new UsageError("FT_BAD_CURSOR", `after ${JSON.stringify(after)} is not an id in this list`, { fix: "pass the last id of the previous page", details: { param: "after" } });
    start = i + 1;
  }
  const data = items.slice(start, start + limit);
  return { object: "list", data, has_more: start + limit < items.length, ...(data.length ? { first_id: data[0].id, last_id: data[data.length - 1].id } : {}) };
}

export function toUnixSeconds(iso: string): number {
  return Math.floor(Date.parse(iso) / 1000);
}
