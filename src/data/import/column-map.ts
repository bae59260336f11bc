import { UsageError } from "../../errors/index.js";
import type { DatasetRecord, Message } from "../record.js";

/**
 * Column mapping for table sources: which column feeds the system, user and assistant turns (or a plain `text`
 * record). Unmapped columns are kept as metadata, so e.g. an intent column survives for stratified splits.
 */
export interface ColumnMap {
  system?: string;
  user?: string;
  assistant?: string;
  text?: string;
}
const TARGETS = ["system", "user", "assistant", "text"] as const;

/** Parses `user=instruction,assistant=response,system=sys`. */
export function parseColumnMap(spec: string): ColumnMap {
  const map: ColumnMap = {};
  for (const part of spec.split(",").map((p) => p.trim()).filter(Boolean)) {
    const eq = part.indexOf("=");
    const key = part.slice(0, eq).trim();
    const column = part.slice(eq + 1).trim();
    if (eq < 1 || column === "" || !(TARGETS as readonly string[]).includes(key)) {
      throw new UsageError("DATA_BAD_MAP", `--map entry "${part}" is not ROLE=COLUMN with ROLE one of ${TARGETS.join(", ")}`, {
        fix: "write e.g. --map user=instruction,assistant=response,system=system_prompt",
      });
    }
    map[key as keyof ColumnMap] = column;
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
  return TARGETS.filter((k) => map[k]).map((k) => `${k}=${map[k]}`).join(",");
}

export function checkColumnsExist(map: ColumnMap, columns: string[], file: string): void {
  const missing = TARGETS.map((k) => map[k]).filter((c): c is string => c !== undefined && !columns.includes(c));
  if (missing.length > 0) {
    throw new UsageError("DATA_MAP_COLUMN_MISSING", `${file} has no column ${missing.map((m) => `"${m}"`).join(", ")} (columns: ${columns.join(", ")})`, {
      fix: "use column names from the header in --map",
    });
  }
}

/** Maps one row; a string return is the reason the row cannot become a record. */
export function mapRow(values: Record<string, string>, map: ColumnMap, systemPrompt?: string): DatasetRecord | string {
  const used = new Set(TARGETS.map((k) => map[k]).filter(Boolean));
  const metadata: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(values)) if (!used.has(k)) metadata[k] = v;
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
