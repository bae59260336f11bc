import { UsageError } from "../../errors/index.js";
import type { DatasetRecord, Message } from "../record.js";

/**
 * Column mapping for table sources: which column feeds the system, user and assistant turns (or a plain `text`
 * record), and which columns go into metadata under a name of the user's choosing. Unmapped columns are kept as
 * metadata under their own name, so e.g. an intent column survives for stratified splits; a column used for a
 * turn is kept as metadata only when a `metadata.KEY=COLUMN` entry asks for it (a label that is both the
 * assistant's answer and the key to stratify on).
 */
export interface ColumnMap {
  system?: string;
  user?: string;
  assistant?: string;
  text?: string;
  /** metadata key → column. */
  metadata?: Record<string, string>;
}
const TARGETS = ["system", "user", "assistant", "text"] as const;
const METADATA_PREFIX = "metadata.";

/** Parses `user=instruction,assistant=response,system=sys,metadata.label=category`. */
export function parseColumnMap(spec: string): ColumnMap {
  const map: ColumnMap = {};
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim();
    const column = part.slice(eq + 1).trim();
    const metadataKey = key.startsWith(METADATA_PREFIX) ? key.slice(METADATA_PREFIX.length) : undefined;
    if (eq >= 1 && column !== "" && metadataKey !== undefined && metadataKey !== "") {
      map.metadata = { ...map.metadata, [metadataKey]: column };
      continue;
    }
    if (eq < 1 || column === "" || !(TARGETS as readonly string[]).includes(key)) {
      throw new UsageError("DATA_BAD_MAP", `--map entry "${part}" is not ROLE=COLUMN with ROLE one of ${TARGETS.join(", ")}, or metadata.KEY=COLUMN`, {
        fix: "write e.g. --map user=instruction,assistant=response,system=system_prompt,metadata.label=category",
      });
    }
    map[key as (typeof TARGETS)[number]] = column;
  }
  if (!map.text && !(map.user && map.assistant)) {
    throw new UsageError("DATA_BAD_MAP", `--map "${spec}" needs both user= and assistant= columns (or text= for text records)`, {
      fix: "add the missing column, e.g. --map user=instruction,assistant=response",
    });
  }
  return map;
}

const GUESS: Record<"system" | "user" | "assistant", string[]> = {
  system: ["system", "system_prompt", "instructions"],
  user: ["user", "instruction", "prompt", "question", "query", "input", "utterance", "customer", "request"],
  assistant: ["assistant", "response", "answer", "output", "completion", "reply", "agent", "target"],
};

/** Guesses a mapping from header names; returns the reason or undefined when no user+assistant pair is found. */
export function guessColumnMap(columns: string[]): { map: ColumnMap; reason: string } | undefined {
  const lower = new Map(columns.map((c) => [c.toLowerCase(), c]));
  const pick = (names: string[]) => names.map((n) => lower.get(n)).find((c) => c !== undefined);
  const user = pick(GUESS.user);
  const assistant = pick(GUESS.assistant);
  if (!user || !assistant || user === assistant) return undefined;
  const system = pick(GUESS.system);
  const map: ColumnMap = { user, assistant, ...(system ? { system } : {}) };
  return { map, reason: `columns named ${[user, assistant, system].filter(Boolean).map((c) => `"${c}"`).join(", ")} look like ${formatColumnMap(map)}` };
}

export function formatColumnMap(map: ColumnMap): string {
  const turns = TARGETS.filter((k) => map[k]).map((k) => `${k}=${map[k]}`);
  const metadata = Object.entries(map.metadata ?? {}).map(([key, column]) => `${METADATA_PREFIX}${key}=${column}`);
  return [...turns, ...metadata].join(",");
}

function mappedColumns(map: ColumnMap): string[] {
  return [...TARGETS.map((k) => map[k]), ...Object.values(map.metadata ?? {})].filter((c): c is string => c !== undefined);
}

/** Every mapped column must be in the header, and a metadata key must not shadow a column kept under its own name. */
export function checkColumnsExist(map: ColumnMap, columns: string[], file: string): void {
  const missing = [...new Set(mappedColumns(map))].filter((c) => !columns.includes(c));
  if (missing.length > 0) {
    throw new UsageError("DATA_MAP_COLUMN_MISSING", `${file} has no column ${missing.map((m) => `"${m}"`).join(", ")} (columns: ${columns.join(", ")})`, {
      fix: "use column names from the header in --map",
    });
  }
  const used = new Set(mappedColumns(map));
  const shadowed = Object.keys(map.metadata ?? {}).filter((key) => columns.includes(key) && !used.has(key));
  if (shadowed.length > 0) {
    throw new UsageError("DATA_BAD_MAP", `--map ${shadowed.map((k) => `${METADATA_PREFIX}${k}`).join(", ")} would overwrite the metadata of ${file}'s own column ${shadowed.map((k) => `"${k}"`).join(", ")}`, {
      fix: `pick another key, e.g. --map ${METADATA_PREFIX}${shadowed[0]}_2=${map.metadata![shadowed[0]]}, or map column "${shadowed[0]}" too`,
    });
  }
}

/** Maps one row; a string return is the reason the row cannot become a record. */
export function mapRow(values: Record<string, string>, map: ColumnMap, systemPrompt?: string): DatasetRecord | string {
  const used = new Set(mappedColumns(map));
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (!used.has(k)) metadata[k] = v;
  for (const [key, column] of Object.entries(map.metadata ?? {})) if (values[column] !== undefined) metadata[key] = values[column];
  const meta = Object.keys(metadata).length > 0 ? { metadata } : {};
  if (map.text) {
    const text = values[map.text];
    if (text === undefined || text.trim() === "") return `column "${map.text}" is empty`;
    return { text, ...meta };
  }
  const user = values[map.user!];
  const assistant = values[map.assistant!];
  if (user === undefined || user.trim() === "") return `column "${map.user}" (user) is empty`;
  if (assistant === undefined || assistant.trim() === "") return `column "${map.assistant}" (assistant) is empty`;
  const messages: Message[] = [];
  const system = map.system ? values[map.system] : systemPrompt;
  if (system !== undefined && system.trim() !== "") messages.push({ role: "system", content: system });
  messages.push({ role: "user", content: user }, { role: "assistant", content: assistant });
  return { messages, ...meta };
}
