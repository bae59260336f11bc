import type { DatasetRecord } from "../data/index.js";

/**
 * The record browser: one streaming pass over a version's records that filters (free-text search over all
 * strings, exact metadata matches), counts matches and keeps only the requested page, plus facets (metadata
 * keys with few distinct values) for the filter menus. Memory stays at one page plus the facet counts.
 */
export interface BrowseQuery {
  offset: number;
  limit: number;
  search?: string;
  /** metadata key → required value (compared as strings). */
  filters?: Record<string, string>;
}

export interface BrowsePage {
  total: number;
  matched: number;
  offset: number;
  limit: number;
  records: { index: number; record: DatasetRecord }[];
  facets: Record<string, { value: string; count: number }[]>;
}

const MAX_FACET_VALUES = 100;

function collectStrings(value: unknown, out: string[]): void {
  if (typeof value === "string") out.push(value);
  else if (Array.isArray(value)) for (const v of value) collectStrings(v, out);
  else if (value && typeof value === "object") for (const v of Object.values(value)) collectStrings(v, out);
}

export function recordMatches(record: DatasetRecord, search: string | undefined, filters: Record<string, string> | undefined): boolean {
  const meta = (record.metadata ?? {}) as Record<string, unknown>;
  for (const [key, want] of Object.entries(filters ?? {})) {
    const have = meta[key];
    if (have === undefined || have === null || String(have) !== want) return false;
  }
  if (!search) return true;
  const needle = search.toLowerCase();
  const strings: string[] = [];
  collectStrings(record, strings);
  return strings.some((s) => s.toLowerCase().includes(needle));
}

export async function browseRecords(records: AsyncIterable<DatasetRecord>, query: BrowseQuery, signal?: AbortSignal): Promise<BrowsePage> {
  const page: BrowsePage["records"] = [];
  const facetCounts = new Map<string, Map<string, number> | null>();
  let total = 0;
  let matched = 0;
  for await (const record of records) {
    if (signal?.aborted) break;
    const index = total++;
    for (const [key, value] of Object.entries((record.metadata ?? {}) as Record<string, unknown>)) {
      if (key === "id" || (typeof value !== "string" && typeof value !== "number" && typeof value !== "boolean")) continue;
      let counts = facetCounts.get(key);
      if (counts === null) continue;
      if (counts === undefined) facetCounts.set(key, (counts = new Map()));
      const v = String(value);
      counts.set(v, (counts.get(v) ?? 0) + 1);
      if (counts.size > MAX_FACET_VALUES) facetCounts.set(key, null); // free text, not a category
    }
    if (!recordMatches(record, query.search, query.filters)) continue;
    if (matched >= query.offset && page.length < query.limit) page.push({ index, record });
    matched++;
  }
  const facets: BrowsePage["facets"] = {};
  for (const [key, counts] of facetCounts) {
    if (!counts || counts.size < 1) continue;
    facets[key] = [...counts.entries()].map(([value, count]) => ({ value, count })).sort((a, b) => b.count - a.count || a.value.localeCompare(b.value));
  }
  return { total, matched, offset: query.offset, limit: query.limit, records: page, facets };
}
